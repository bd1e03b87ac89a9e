"""The public shelter map (``GET /public/shelters``) and its API (``GET /api/public/shelters/nearest``).

No login, and nothing but public data, whoever asks: both read through the **public** view of
each layer (:data:`server.auth.PUBLIC`, :mod:`server.redaction`), so a signed-in planner sees the
same page as a resident. The page draws boundaries, roads, shelters and the plots disclosed as
较大 and above (colour and the plain notice, 公示较大以上安全风险) from the public vector tiles
(``/tiles/...``); tapping the map or "locate me" (``navigator.geolocation``) asks the API for
the nearest shelters.

Nearest shelters
----------------
:class:`NearestShelters` asks the engine (:func:`zoning.coverage.shelters.assess_shelters`) for the
nearest usable shelter by walking, ``n`` times, leaving out those already found: the walking
distance is along the roads (with the snaps to the network) when the point and the shelters are
near the road network, else the straight line × the rule set's walking detour factor, and the
answer says which. The road graph is built once per version of the ``roads`` layer. Capacity
is :func:`zoning.coverage.shelters.shelter_capacity` (the ``capacity`` field, else the effective area over
the class's m² per person, GB 50413-2007). The direction is the bearing from the point to the
shelter in words (东 / 东北 …), as the crow flies.
"""

from __future__ import annotations

import threading
import warnings

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse
from pyproj import Geod

from geo.crs import metric_crs_for
from layers.catalogue.shelters import CLASSES
from layers.errors import LayerNotFound
from server.auth import PUBLIC
from server.pages.assets import basemap_config, offline_map, render_map_page
from server.pages.common import esc
from server.pages.layers import BASEMAP_LAYERS, Overlay, layer_bounds, overlay_configs
from server.redaction import RISK_NOTICE, Redactor
from server.settings import Settings
from server.source import LayerSource
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.rules import RuleSet
from zoning.coverage.shelters import assess_shelters, shelter_capacity, shelter_rules

__all__ = ["PUBLIC_OVERLAYS", "DIRECTIONS", "direction_words", "NearestShelters", "create_public_router"]

#: Overlays of the public map, bottom to top (public views only).
PUBLIC_OVERLAYS: tuple[Overlay, ...] = (
    Overlay("risk_wall", "risk_wall", "公示风险地块(较大以上)", "disclosed risk plots (large and above)", on=True),
    Overlay("shelters", "shelters", "应急避难场所", "emergency shelters", on=True),
)
#: Eight compass directions, clockwise from north: (中文, English).
DIRECTIONS = (("北", "north"), ("东北", "north-east"), ("东", "east"), ("东南", "south-east"),
              ("南", "south"), ("西南", "south-west"), ("西", "west"), ("西北", "north-west"))
_CLASS_LABELS = {c.value: (c.zh, c.en) for c in CLASSES}
_METHOD = {"network": ("沿道路步行距离", "walking distance along the roads"),
           "straight line": ("直线距离×绕行系数", "straight line × walking detour factor")}
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
_FAR_M = 20_000.0


def direction_words(bearing: float) -> tuple[str, str]:
    """The compass direction of a bearing (degrees clockwise from north), in Chinese and English.

    >>> direction_words(0), direction_words(44), direction_words(-100), direction_words(338)
    (('北', 'north'), ('东北', 'north-east'), ('西', 'west'), ('北', 'north'))
    """
    return DIRECTIONS[int(((bearing % 360) + 22.5) // 45) % 8]


class NearestShelters:
    """Nearest shelters by walking from a point, over the public views of ``shelters`` and ``roads``.

    Parameters
    ----------
    source : LayerSource
    redactor : Redactor
    ruleset : RuleSet
        For the ``[shelters]`` table (detour factor, snap tolerance, m² per person) and the
        road speeds of the graph.
    """

    def __init__(self, source: LayerSource, redactor: Redactor, ruleset: RuleSet):
        self.source, self.redactor, self.ruleset = source, redactor, ruleset
        self.rules = shelter_rules(ruleset)
        self._lock = threading.Lock()
        self._state: tuple | None = None

    def _load(self):
        infos = self.source.infos()
        if "shelters" not in infos:
            raise LayerNotFound("the store has no shelters layer: there is nothing to look up")
        roads = infos.get("roads")
        key = (infos["shelters"].version, roads.version if roads is not None else None)
        with self._lock:
            if self._state is not None and self._state[0] == key:
                return self._state[1]
            shelters = self.source.frame(self.redactor.view("shelters", PUBLIC), infos["shelters"])
            shelters = shelters[~(shelters.geometry.is_empty | shelters.geometry.isna())].reset_index(drop=True)
            crs = metric_crs_for(shelters) if len(shelters) else None
            graph = None
            if roads is not None and roads.rows and crs is not None:
                frame = self.source.frame(self.redactor.view("roads", PUBLIC), roads)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # dangling roads and the like: the graph is still usable
                    graph = RoadGraph.from_roads(frame.to_crs(crs), coverage_rules(self.ruleset))
            metric = shelters.to_crs(crs) if crs is not None else shelters
            metric = metric.assign(capacity=shelter_capacity(shelters, self.rules) if len(shelters) else [])
            points = shapely.point_on_surface(np.asarray(shelters.geometry.values, dtype=object))
            state = (shelters, metric, points, graph, crs)
            self._state = (key, state)
            return state

    def nearest(self, lon: float, lat: float, n: int = 3) -> dict:
        """The ``n`` nearest shelters from ``(lon, lat)`` (CGCS2000 / WGS 84 degrees), nearest first."""
        shelters, metric, points, graph, crs = self._load()
        found = []
        if len(shelters):
            demand = gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(lon, lat)],
                                      crs=shelters.crs).to_crs(crs)
            left = metric
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a shelter of zero capacity is skipped, as the engine says
                for _ in range(min(n, len(metric))):
                    row = assess_shelters(demand, left, self.rules, graph).assignments.iloc[0]
                    if row["method"] == "none":
                        break
                    found.append(row)
                    left = left[left["shelter_id"] != row["shelter_id"]]
        out = [self._describe(row, shelters, metric, points, lon, lat) for row in found]
        methods = sorted({s["method"] for s in out})
        warn = []
        if out and out[0]["distance_m"] > _FAR_M:
            warn.append(f"最近的避难场所在 {out[0]['distance_m'] / 1000:.0f} 公里外：该位置可能不在本图范围内。"
                        f" The nearest shelter is {out[0]['distance_m'] / 1000:.0f} km away: the point may be "
                        "outside the area this map covers.")
        return {
            "point": {"lon": lon, "lat": lat}, "n": n, "road_network": graph is not None,
            "methods": methods,
            "method_note": ("步行距离沿道路网计算（含到道路的距离）；离道路较远或无道路时按直线距离×绕行系数 "
                            f"{self.rules.walking_detour_factor:g} 估算。Walking distance is measured along the "
                            "roads (with the way to the nearest road); away from the roads, or with no roads, it "
                            f"is the straight line × the detour factor {self.rules.walking_detour_factor:g}."),
            "direction_note": "方向为直线方位 Directions are straight-line bearings.",
            "warnings": warn,
            "shelters": out,
        }

    def _describe(self, row, shelters, metric, points, lon, lat) -> dict:
        i = int(np.flatnonzero(shelters["shelter_id"].to_numpy() == row["shelter_id"])[0])
        s = shelters.iloc[i]
        point = points[i]
        bearing, _, _ = _GEOD.inv(lon, lat, point.x, point.y)
        zh_dir, en_dir = direction_words(bearing)
        cls = str(s["class"])
        cls_zh, cls_en = _CLASS_LABELS.get(cls, (cls, cls))
        distance = float(row["distance_m"])
        method = str(row["method"])
        capacity = metric["capacity"].iloc[i]
        area = s.get("effective_area_m2")
        return {
            "shelter_id": str(s["shelter_id"]), "name": None if s.get("name") is None else str(s.get("name")),
            "class": cls, "class_zh": cls_zh, "class_en": cls_en,
            "address": None if s.get("address") is None else str(s.get("address")),
            "capacity": int(capacity) if np.isfinite(capacity) else None,
            "effective_area_m2": float(area) if area is not None and np.isfinite(area) else None,
            "distance_m": round(distance, 1), "method": method,
            "method_zh": _METHOD.get(method, (method, method))[0],
            "method_en": _METHOD.get(method, (method, method))[1],
            "service_radius_m": float(row["service_radius_m"]),
            "within_service_radius": bool(row["within_radius"]),
            "bearing_deg": round(float(bearing) % 360, 1), "direction_zh": zh_dir, "direction_en": en_dir,
            "summary_zh": f"向{zh_dir}约 {distance:,.0f} 米（{_METHOD.get(method, (method,))[0]}）",
            "summary_en": f"about {distance:,.0f} m to the {en_dir} ({_METHOD.get(method, (method, method))[1]})",
            "lon": round(point.x, 7), "lat": round(point.y, 7),
        }


def _panel(palette, base: str = "") -> str:
    disclosed = "".join(
        f'<li><span class="rm-sw" style="background:{esc(palette.colour(lv))}"></span>{esc(palette.labels_zh[lv - 1])}'
        f' <span class="en">{esc(palette.names[lv - 1])}</span></li>' for lv in sorted(RISK_NOTICE))
    return f"""<aside class="rm-panel rm-public" id="rm-panel">
<header><p class="rm-hint"><a href="{esc(base)}/">首页 <span class="en">Home</span></a></p>
<h1>应急避难场所 <span class="en">Emergency shelters</span></h1></header>
<p>点击地图或使用定位，查找最近的避难场所。<span class="en">Tap the map or use your location to find the nearest
shelters.</span></p>
<button type="button" id="rm-locate" class="rm-primary">定位我的位置 <span class="en">Locate me</span></button>
<p class="rm-hint" id="rm-where"></p>
<ol id="rm-results" class="rm-results"></ol>
<p class="rm-hint" id="rm-method"></p>
<section class="rm-legend"><h2>图例 <span class="en">Legend</span></h2><ul>
<li><span class="rm-sw rm-sw-shelter"></span>应急避难场所 <span class="en">shelter</span></li>
<li><span class="rm-sw rm-sw-here"></span>您的位置 <span class="en">you are here</span></li>{disclosed}</ul>
<p class="rm-notice">红色、黄色地块为依规公示的较大以上安全风险地块（公示较大以上安全风险）。详情请咨询所在镇（街道）安全生产监管部门。
<span class="en">Red and yellow plots carry major or large safety risks, disclosed as the plans require; ask the
town's work-safety office for details.</span></p></section>
<div id="rm-status" class="rm-status" data-tiles="0" data-features="0" data-errors="0"></div>
</aside>"""


def create_public_router(source: LayerSource, redactor: Redactor, settings: Settings,
                         ruleset: RuleSet) -> APIRouter:
    """The public shelter page and the nearest-shelters API (see the module docstring)."""
    router = APIRouter(tags=["Public"])
    finder = NearestShelters(source, redactor, ruleset)
    base = settings.public_url or ""

    @router.get("/public/shelters", response_class=HTMLResponse, summary="Public shelter map (应急避难场所地图)")
    def public_shelters():
        bounds = layer_bounds(source, redactor, PUBLIC)
        tiles = base + "/tiles"
        config = {"page": "public", "base": base, "role": "public", "bounds": bounds,
                  "basemap_layers": overlay_configs(BASEMAP_LAYERS, source, redactor, PUBLIC, tiles),
                  "overlays": overlay_configs(PUBLIC_OVERLAYS, source, redactor, PUBLIC, tiles),
                  "online_basemap": basemap_config(settings.basemap_url, bounds),
                  "nearest": f"{base}/api/public/shelters/nearest"}
        centre = [31.78, 119.95] if bounds is None else [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
        m = offline_map(base, location=centre, zoom_start=11)
        html = render_map_page(m, title="应急避难场所 Emergency shelters", entry="publicShelters", config=config,
                               body_class="rm-page-public", body=_panel(ruleset.palette(), base))
        return HTMLResponse(html, headers={"Cache-Control": "public, max-age=60"})

    @router.get("/api/public/shelters/nearest", summary="Nearest shelters by walking (public, no login)")
    def nearest_shelters(
        lon: float = Query(..., ge=-180, le=180, description="Longitude (CGCS2000 / WGS 84 degrees)."),
        lat: float = Query(..., ge=-90, le=90, description="Latitude (CGCS2000 / WGS 84 degrees)."),
        n: int = Query(3, ge=1, le=10, description="How many shelters, nearest first."),
    ):
        return JSONResponse(finder.nearest(lon, lat, n), headers={"Cache-Control": "public, max-age=60"})

    return router
