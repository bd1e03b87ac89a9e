"""The hazards each demo shelter is fit for (the ``hazards`` field of ``shelters``), generated.

Every demo shelter is fit for earthquake and fire (open ground, as the catalogue's default,
:data:`layers.catalogue.shelters.DEFAULT_HAZARDS`). On top of that, by rules a town could apply
to its own list (team's choice):

* **chemical release** - the shelter lies at least ``keep_away_m`` (1000 m, the distance GB
  50413-2007 keeps shelters from flammable and explosive plants) from every hazardous-chemical
  site;
* **flood** - the shelter is in a school's grounds (its buildings have floors above the water;
  the demo has no terrain to tell high ground).

>>> import pandas as pd, shapely
>>> frame = pd.DataFrame({"geometry": [shapely.box(0, 0, 10, 10), shapely.box(5000, 0, 5010, 10)]})
>>> with_hazards(frame, [shapely.box(0, 0, 100, 100)], [600.0], [0.0])["hazards"].tolist()
['earthquake,fire,flood', 'earthquake,fire,chemical']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = ["KEEP_AWAY_M", "with_hazards"]

#: GB 50413-2007: shelters at least 1000 m from flammable and explosive plants (STANDARDS.md).
KEEP_AWAY_M = 1000.0


def with_hazards(shelters: pd.DataFrame, schools, site_x, site_y, keep_away_m: float = KEEP_AWAY_M) -> pd.DataFrame:
    """``shelters`` (metric ``geometry``) with a ``hazards`` column (codes joined by commas).

    Parameters
    ----------
    shelters : pandas.DataFrame
        The generated shelters, ``geometry`` in the metric CRS of the demo.
    schools : array of geometries
        School footprints in the same CRS.
    site_x, site_y : array_like
        Hazardous-chemical sites (same CRS).
    keep_away_m : float
        Least distance from every site for a shelter fit for a chemical release.
    """
    geoms = np.asarray(shelters["geometry"].to_numpy(), dtype=object)
    sites = shapely.points(np.asarray(site_x, float), np.asarray(site_y, float))
    far = np.ones(len(geoms), bool)
    if len(sites) and len(geoms):
        hit, _ = shapely.STRtree(sites).query(geoms, predicate="dwithin", distance=keep_away_m)
        far[hit] = False
    at_school = np.zeros(len(geoms), bool)
    school_geoms = np.asarray(schools, dtype=object)
    if len(school_geoms) and len(geoms):
        hit, _ = shapely.STRtree(school_geoms).query(geoms, predicate="intersects")
        at_school[hit] = True
    hazards = np.where(far, "earthquake,fire,chemical", "earthquake,fire").astype(object)
    hazards = np.where(at_school, hazards + ",flood", hazards)
    return shelters.assign(hazards=hazards)
