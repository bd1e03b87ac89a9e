"""The ``threat_zones`` layer: attention areas by hazard type, for planners.

Where individual risk weighs consequences by frequency, a threat zone shows how far a hazard can
reach at all — the ALOHA "threat zone", the Dutch Bkl "aandachtsgebied" (attention area). Per site
and hazard type, the distance is the farthest reach of the threshold over the site's scenarios and
weather classes (frequency not weighed: worst case), drawn as a circle because the wind may blow
any way. Thresholds, with their sources, come from the rule set (``[qra.threat_zones]``):

* **toxic** — AEGL-3 and AEGL-2 (60 min, ppm, per substance) against the peak concentration on
  the cloud's axis, and the 1 % lethality of the substance's probit on the toxic load;
* **heat radiation** — 37.5 / 12.5 / 5 kW/m² of the direct-ignition fire (jet, pool, fireball);
* **overpressure** — the blast thresholds of ``distances.blast.threshold_kpa`` for the
  vapour-cloud explosion.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoning.hazards.qra.individual import SiteRisk, reach_of

__all__ = ["threat_distances", "threat_zones", "THREAT_COLUMNS"]

THREAT_COLUMNS = ["site_id", "hazard", "threshold", "value", "unit", "distance_m", "at_least", "substances",
                  "source", "geometry"]
_SOURCES = {
    "aegl3": "US EPA AEGL-3, 60 min (to confirm)",
    "aegl2": "US EPA AEGL-2, 60 min (to confirm)",
    "lethality_1pct": "1 % lethality of the substance's probit (CPR 18E ch. 5)",
    "heat": "qra.threat_zones.radiation_kw_m2 (World Bank 1985; to confirm)",
    "blast": "distances.blast.threshold_kpa (GB/T 37243-2019 Annex; to confirm)",
}


def _farthest(profiles: list[np.ndarray], threshold: float, r: np.ndarray) -> float:
    """Farthest reach of ``threshold`` over several radial profiles (one vectorised call)."""
    return float(np.max(reach_of(np.column_stack(profiles), threshold, r))) if profiles else 0.0


def threat_distances(site: SiteRisk, *, radiation_kw_m2=(), toxic=(), overpressure_kpa=(), ambient_k: float = 289.15,
                     pressure_pa: float = 101_325.0) -> list[dict]:
    """Rows (hazard, threshold, value, unit, distance_m, at_least, substances, source) for one site.

    ``at_least`` is true where the threshold is still reached at the grid's last radius
    (``qra.max_distance_m``): the zone reaches at least that far, beyond the models' range.
    """
    r = site.grid.r
    rows = []
    by_sub: dict[str, list] = {}
    for fp in site.footprints:
        by_sub.setdefault(fp.scenario.substance.key, []).append(fp)
    for key, fps in by_sub.items():
        sub = fps[0].scenario.substance
        if sub.toxic:
            for kind in toxic:
                if kind == "lethality_1pct":
                    d = _farthest([fp.directional["toxic"][:, 0] for fp in fps if "toxic" in fp.directional], 0.01, r)
                    rows.append(("toxic", f"{key} 1 % lethality", 1.0, "%", d, key, _SOURCES[kind]))
                    continue
                ppm = sub.aegl3_ppm if kind == "aegl3" else sub.aegl2_ppm
                if ppm is None:
                    continue
                mg = ppm * sub.mg_m3_per_ppm(ambient_k, pressure_pa)
                d = _farthest([fp.peak_mg_m3 for fp in fps], mg, r)
                rows.append(("toxic", f"{key} {kind.upper()} {ppm:g} ppm", ppm, "ppm", d, key, _SOURCES[kind]))
    fires = [fp for fp in site.footprints if fp.heat_w_m2 is not None]
    blasts = [fp for fp in site.footprints if fp.overpressure_kpa is not None]
    flam = "; ".join(sorted({fp.scenario.substance.key for fp in fires}))
    for kw in radiation_kw_m2 if fires else ():
        d = _farthest([fp.heat_w_m2 for fp in fires], kw * 1e3, r)
        rows.append(("heat_radiation", f"{kw:g} kW/m²", kw, "kW/m²", d, flam, _SOURCES["heat"]))
    for kpa in overpressure_kpa if blasts else ():
        d = _farthest([fp.overpressure_kpa for fp in blasts], kpa, r)
        rows.append(("overpressure", f"{kpa:g} kPa", kpa, "kPa", d, flam, _SOURCES["blast"]))
    keys = [c for c in THREAT_COLUMNS[1:-1] if c != "at_least"]
    return [{**dict(zip(keys, row)), "at_least": bool(row[4] >= r[-1])} for row in rows]


def threat_zones(sites: list[SiteRisk], crs, *, quad_segs: int = 32, **thresholds) -> gpd.GeoDataFrame:
    """The threat-zone circles of every site (metric ``crs``); zero-distance rows are dropped.

    ``thresholds`` are passed to :func:`threat_distances`. ``attrs["layer"] == "threat_zones"``.
    """
    rows = []
    for s in sites:
        for row in threat_distances(s, **thresholds):
            if row["distance_m"] > 0:
                circle = shapely.buffer(shapely.Point(s.x, s.y), row["distance_m"], quad_segs=quad_segs)
                rows.append({"site_id": s.site_id, **row, "geometry": circle})
    frame = pd.DataFrame(rows, columns=THREAT_COLUMNS)
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
    out.attrs["layer"] = "threat_zones"
    return out
