"""Generated grids (网格) of the demo towns, each with a generated grid officer (网格员).

Towns divide into grids walked by a grid officer; no open data has them, so the demo cuts each
town into 2 to 4 strips of equal width west to east (in the metric Gauss-Krüger CRS), and names
a made-up officer with a made-up phone number (555 numbers: never a real one). Deterministic:
the same towns give the same grids. Codes are the town's code plus three digits, west to east.

>>> import geopandas as gpd, shapely
>>> towns = gpd.GeoDataFrame({"code": ["320412001", "320412002"], "name": ["甲镇", "乙镇"]},
...     geometry=[shapely.box(119.90, 31.60, 119.95, 31.65), shapely.box(119.95, 31.60, 120.00, 31.65)], crs=4490)
>>> grids = demo_grids(towns)
>>> grids["code"].tolist(), grids["parent"].tolist()[:2], grids["name"].iloc[0]
(['320412001001', '320412001002', '320412002001', '320412002002', '320412002003'], ['320412001', '320412001'], '甲镇第1网格')
>>> round(float(grids.to_crs(4549).area.sum() / towns.to_crs(4549).area.sum()), 6)
1.0
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs_for
from layers.demo.sampling import polygonal

__all__ = ["SOURCE", "demo_grids"]

#: The ``source`` attribute of the generated grids.
SOURCE = "generated: equal-width strips of the town (demo), officers made up"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("芳", "伟", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英")


def _officer(k: int) -> tuple[str, str]:
    return _SURNAMES[k % len(_SURNAMES)] + _GIVEN[(7 * k + 3) % len(_GIVEN)], f"0519-555{k:05d}"


def demo_grids(towns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grids of ``towns`` (``code``, ``name``, polygons): 2 + (row number mod 3) strips per town.

    Returns the ``admin_areas`` columns: ``code``, ``name``, ``level`` ("grid"), ``parent`` (the
    town), ``officer``, ``officer_phone``, ``source``, in the CRS of ``towns``.
    """
    metric = metric_crs_for(towns)
    to_metric = towns.geometry.to_crs(metric).values
    rows, geoms = [], []
    for i, (code, name, shape, shape_m) in enumerate(zip(towns["code"], towns["name"], towns.geometry, to_metric)):
        n = 2 + i % 3
        west, south, east, north = shape_m.bounds
        edges = np.linspace(west, east, n + 1)
        edges[0], edges[-1] = west - 1.0, east + 1.0
        boxes = gpd.GeoSeries(shapely.box(edges[:-1], south - 1.0, edges[1:], north + 1.0), crs=metric)
        # cut in the town's own CRS, so the strips share the town's vertices and tile it exactly
        strips = polygonal(shapely.intersection(np.asarray(boxes.to_crs(towns.crs).values, dtype=object), shape))
        for j, strip in enumerate((g for g in strips if not g.is_empty), start=1):
            officer, phone = _officer(len(rows))
            rows.append({"code": f"{code}{j:03d}", "name": f"{name}第{j}网格", "level": "grid",
                         "parent": code, "officer": officer, "officer_phone": phone, "source": SOURCE})
            geoms.append(strip)
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent", "officer", "officer_phone", "source"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=towns.crs)
