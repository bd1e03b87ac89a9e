""""My place" in plain words (``GET /api/public/place``) and the nearest shelters behind it.

For a point, from the **public** views only (:data:`server.auth.PUBLIC`): the town and district
it lies in (``admin_areas``), its town's zone colour (``risk_zones``, town rows), how far the
nearest plot disclosed as 较大 and above is (``risk_wall``'s public rows, 公示较大以上安全风险)
and whether the point lies within the rule set's margin of one, then the nearest shelters fit for
the hazard asked about, with their walking distance and time along the roads, route, capacity and
area (:func:`zoning.coverage.place.shelters_for_place`), and what to do, in short sentences,
Chinese first, English second.

Everything read is cached per layer version (the road graph, the shelters in metres with their
capacity, an STRtree of the disclosed plots). No field the public may not see is read: the frames
come from :meth:`server.source.LayerSource.frame` with the public view.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from layers.catalogue.shelters import CLASSES, HAZARDS
from layers.errors import LayerNotFound
from server.auth import PUBLIC
from server.pages.public_data import PerVersion, public_frame
from server.redaction import Redactor
from server.source import LayerSource
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.coverage.place import check_hazard, shelters_for_place
from zoning.coverage.shelters import shelter_capacity, shelter_rules
from zoning.rules import RuleSet

__all__ = ["DIRECTIONS", "ADVICE", "direction_words", "PlaceFinder"]

#: Eight compass directions, clockwise from north: (中文, English).
DIRECTIONS = (("北", "north"), ("东北", "north-east"), ("东", "east"), ("东南", "south-east"),
              ("南", "south"), ("西南", "south-west"), ("西", "west"), ("西北", "north-west"))
#: What to do, by hazard (None: any), Chinese first (team's wording, from common public guidance).
ADVICE: dict[str | None, tuple[str, str]] = {
    None: ("紧急情况请拨打 119（火警）、110（报警）、120（急救），听从广播和现场指挥。",
           "In an emergency call 119 (fire), 110 (police) or 120 (ambulance) and follow the announcements."),
    "earthquake": ("地震时就地躲避，震后沿道路步行前往避难场所，远离建筑物、围墙和电线杆。",
                   "During shaking take cover where you are; afterwards walk along the roads to the shelter, "
                   "clear of buildings, walls and power poles."),
    "fire": ("发生火灾时向上风方向撤离，不乘电梯，用湿毛巾捂住口鼻。",
             "In a fire leave upwind, do not use lifts, and cover your nose and mouth with a wet cloth."),
    "chemical": ("危化品泄漏时关闭门窗或向上风、侧风方向撤离，远离公示风险地块，不要前往下风方向。",
                 "In a chemical release close doors and windows or leave upwind or crosswind, away from the "
                 "disclosed risk plots; never go downwind."),
    "flood": ("洪涝时向高处转移，不要涉水步行或驾车穿越积水路段。",
              "In a flood move to higher ground; do not walk or drive through water."),
}
_HAZARD_LABELS = {c.value: (c.zh, c.en) for c in HAZARDS}
_CLASS_LABELS = {c.value: (c.zh, c.en) for c in CLASSES}
_METHOD = {"network": ("沿道路步行距离", "walking distance along the roads"),
           "straight line": ("直线距离×绕行系数", "straight line × walking detour factor")}
_LEVEL_WORDS = {1: ("重大", "major"), 2: ("较大", "large")}
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
_FAR_M = 20_000.0


def direction_words(bearing: float) -> tuple[str, str]:
    """The compass direction of a bearing (degrees clockwise from north), in Chinese and English.

    >>> direction_words(0), direction_words(44), direction_words(-100), direction_words(338)
    (('北', 'north'), ('东北', 'north-east'), ('西', 'west'), ('北', 'north'))
    """
    return DIRECTIONS[int(((bearing % 360) + 22.5) // 45) % 8]


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


class _State:
    """The public frames of one set of layer versions, prepared for lookups."""

    def __init__(self, finder: "PlaceFinder", infos: dict):
        src, red = finder.source, finder.redactor
        shelters = src.frame(red.view("shelters", PUBLIC), infos["shelters"])
        self.shelters = shelters[~(shelters.geometry.is_empty | shelters.geometry.isna())].reset_index(drop=True)
        self.crs = metric_crs_for(self.shelters) if len(self.shelters) else None
        self.metric = self.shelters.to_crs(self.crs) if self.crs is not None else self.shelters
        if len(self.shelters):
            self.metric = self.metric.assign(capacity=shelter_capacity(self.shelters, finder.rules))
        self.back = Transformer.from_crs(self.crs, STORE_CRS, always_xy=True) if self.crs is not None else None
        self.graph = None
        roads = infos.get("roads")
        if roads is not None and roads.rows and self.crs is not None:
            frame = src.frame(red.view("roads", PUBLIC), roads)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # dangling roads and the like: the graph is still usable
                self.graph = RoadGraph.from_roads(frame.to_crs(self.crs), coverage_rules(finder.ruleset))
        self.plots = public_frame(src, red, infos, "risk_wall")
        self.plot_tree = None
        if self.plots is not None and len(self.plots) and self.crs is not None:
            metric = np.asarray(self.plots.to_crs(self.crs).geometry.values, dtype=object)
            self.plot_tree = shapely.STRtree(metric)
        zones = public_frame(src, red, infos, "risk_zones")
        self.zones = zones[zones["zone_kind"] == "town"] if zones is not None and "zone_kind" in zones else None
        self.areas = public_frame(src, red, infos, "admin_areas")

    def containing(self, frame: gpd.GeoDataFrame | None, point: shapely.Point) -> gpd.GeoDataFrame:
        if frame is None or not len(frame):
            return frame.iloc[:0] if frame is not None else gpd.GeoDataFrame()
        hits = frame.sindex.query(point, predicate="intersects")
        return frame.iloc[np.sort(hits)]


class PlaceFinder:
    """Answers "my place" and "nearest shelters" from the public views of the store.

    Parameters
    ----------
    source : LayerSource
    redactor : Redactor
    ruleset : RuleSet
        ``[shelters]`` (detour factor, walking speed, snap tolerance, disclosed-plot margin, m²
        per person) and ``[coverage]`` (the road graph).
    """

    def __init__(self, source: LayerSource, redactor: Redactor, ruleset: RuleSet):
        self.source, self.redactor, self.ruleset = source, redactor, ruleset
        self.rules = shelter_rules(ruleset)
        self._state = PerVersion(source, ("shelters", "roads", "risk_wall", "risk_zones", "admin_areas"),
                                 lambda infos: _State(self, infos))

    def _load(self) -> _State:
        infos = self.source.infos()
        if "shelters" not in infos:
            raise LayerNotFound("the store has no shelters layer: there is nothing to look up")
        return self._state.get(infos)

    def public_shelters(self) -> gpd.GeoDataFrame:
        """The shelters as the public sees them (longitude/latitude)."""
        return self._load().shelters

    def capacity_of(self, shelter) -> int | None:
        """Capacity in persons of one row of :meth:`public_shelters` (given, else area / m² per person)."""
        cap = shelter_capacity(gpd.GeoDataFrame([shelter]), self.rules)[0]
        return int(cap) if np.isfinite(cap) else None

    # ------------------------------------------------------------------ shelters
    def shelters(self, lon: float, lat: float, n: int = 3, hazard: str | None = None) -> dict:
        """The ``n`` shelters for ``hazard`` from ``(lon, lat)`` (CGCS2000 / WGS 84 degrees), best first."""
        return self._shelters(lon, lat, n, hazard)[0]

    def _shelters(self, lon: float, lat: float, n: int, hazard: str | None):
        hazard = check_hazard(hazard)
        st = self._load()
        out, found = [], None
        if len(st.shelters):
            to_metric = Transformer.from_crs(STORE_CRS, st.crs, always_xy=True)
            x, y = to_metric.transform(lon, lat)
            if not (np.isfinite(x) and np.isfinite(y)):  # far outside the zone of the map's metric CRS
                raise InputError(f"lon={lon}, lat={lat}: outside the area this map covers (该位置不在本图范围内)")
            point = shapely.Point(x, y)
            found = shelters_for_place(point, st.metric, self.rules, st.graph, hazard=hazard, zones=st.plot_tree, n=n)
            out = [self._describe(st, row, lon, lat) for _, row in found.shelters.iterrows()]
        warn = []
        if out and out[0]["distance_m"] > _FAR_M:
            km = out[0]["distance_m"] / 1000
            warn.append(f"最近的避难场所在 {km:.0f} 公里外：该位置可能不在本图范围内。"
                        f" The nearest shelter is {km:.0f} km away: the point may be outside the area this map covers.")
        f = self.rules.walking_detour_factor
        return {
            "point": {"lon": lon, "lat": lat}, "n": n, "hazard": hazard, "road_network": st.graph is not None,
            "methods": sorted({s["method"] for s in out}),
            "method_note": ("步行距离沿道路网计算（含到道路的距离）；离道路较远或无道路时按直线距离×绕行系数 "
                            f"{f:g} 估算。步行时间按 {self.rules.walking_speed_kmh:g} 公里/小时计。Walking distance "
                            "is measured along the roads (with the way to the nearest road); away from the roads, "
                            f"or with no roads, it is the straight line × the detour factor {f:g}. Walking times "
                            f"at {self.rules.walking_speed_kmh:g} km/h."),
            "direction_note": "方向为直线方位 Directions are straight-line bearings.",
            "warnings": warn,
            "left_out": found.left_out if found is not None else {},
            "shelters": out,
        }, found

    def _describe(self, st: _State, row, lon: float, lat: float) -> dict:
        i = int(row.name)
        s = st.shelters.loc[i]
        point = shapely.point_on_surface(s.geometry)
        bearing, _, _ = _GEOD.inv(lon, lat, point.x, point.y)
        zh_dir, en_dir = direction_words(bearing)
        cls = str(s["class"])
        cls_zh, cls_en = _CLASS_LABELS.get(cls, (cls, cls))
        distance, method, minutes = float(row["distance_m"]), str(row["method"]), float(row["minutes"])
        m_zh, m_en = _METHOD.get(method, (method, method))
        radius = self.rules.classes[cls].service_radius_m if cls in self.rules.classes else None
        area = s.get("effective_area_m2")
        capacity = float(row["capacity"])
        hazards = list(row["hazards_fit"])
        rx, ry = st.back.transform(row["route"][:, 0], row["route"][:, 1])
        return {
            "shelter_id": str(s["shelter_id"]), "name": _text(s.get("name")),
            "class": cls, "class_zh": cls_zh, "class_en": cls_en, "address": _text(s.get("address")),
            "capacity": int(capacity) if np.isfinite(capacity) else None,
            "effective_area_m2": float(area) if area is not None and np.isfinite(area) else None,
            "hazards": hazards, "hazards_zh": [_HAZARD_LABELS[h][0] for h in hazards],
            "hazards_en": [_HAZARD_LABELS[h][1] for h in hazards], "hazards_declared": bool(row["hazards_declared"]),
            "distance_m": round(distance, 1), "minutes": round(minutes, 1), "method": method,
            "method_zh": m_zh, "method_en": m_en,
            "service_radius_m": radius, "within_service_radius": radius is not None and distance <= radius,
            "towards_disclosed_plot": bool(row["towards_zone"]),
            "bearing_deg": round(float(bearing) % 360, 1), "direction_zh": zh_dir, "direction_en": en_dir,
            "summary_zh": f"向{zh_dir}约 {distance:,.0f} 米，步行约 {max(1, round(minutes))} 分钟（{m_zh}）",
            "summary_en": f"about {distance:,.0f} m to the {en_dir}, a {max(1, round(minutes))}-minute walk ({m_en})",
            "lon": round(point.x, 7), "lat": round(point.y, 7),
            "route": [[round(x, 6), round(y, 6)] for x, y in zip(rx, ry)],
        }

    # ------------------------------------------------------------------ my place
    def place(self, lon: float, lat: float, hazard: str | None = None, n: int = 3) -> dict:
        """My place in plain words (see the module docstring)."""
        answer, found = self._shelters(lon, lat, n, hazard)
        hazard = answer["hazard"]
        st = self._load()
        here = shapely.Point(lon, lat)
        areas = st.containing(st.areas, here)
        town = areas[areas["level"] == "town"] if "level" in areas else areas.iloc[:0]
        district = areas[areas["level"] == "district"] if "level" in areas else areas.iloc[:0]
        zone = st.containing(st.zones, here)
        t_name = _text(town["name"].iloc[0]) if len(town) else None
        d_name = _text(district["name"].iloc[0]) if len(district) else None
        answer["town"] = None if t_name is None else {"code": _text(town["code"].iloc[0]), "name": t_name,
                                                      "district": d_name}
        answer["zone"] = None
        if len(zone):
            z = zone.iloc[0]
            answer["zone"] = {"level": int(z["level"]), "colour": _text(z["colour"]),
                              "colour_zh": _text(z.get("colour_zh")), "colour_name": _text(z.get("colour_name"))}
        distance = found.zone_distance_m if found is not None else np.inf
        answer["disclosed"] = {"nearest_m": round(distance, 0) if np.isfinite(distance) else None,
                               "margin_m": self.rules.disclosed_zone_margin_m,
                               "within_margin": bool(found is not None and found.in_zone)}
        answer["sentences"] = self._sentences(answer, hazard, t_name, d_name)  # kind: where, risk, shelter, advice
        return answer

    def _sentences(self, a: dict, hazard: str | None, town: str | None, district: str | None) -> list[dict]:
        out = []
        if town:
            where = f"{district or ''}{town}"
            zone = a["zone"]
            if zone:
                out.append({"kind": "where", "zh": f"您在{where}。本镇（街道）四色分区为{zone['colour_zh'] or zone['colour']}。",
                            "en": f"You are in {town}{', ' + district if district else ''}; its four-colour zone is "
                                  f"{zone['colour_name'] or zone['colour']}."})
            else:
                out.append({"kind": "where", "zh": f"您在{where}。", "en": f"You are in {town}{', ' + district if district else ''}."})
        else:
            out.append({"kind": "where", "zh": "该位置不在本图的镇（街道）范围内。", "en": "This place is outside the towns this map covers."})
        d = a["disclosed"]
        if d["within_margin"]:
            out.append({"kind": "risk", "zh": f"该位置距公示的较大以上安全风险地块不到 {d['margin_m']:g} 米。",
                        "en": f"This place is within {d['margin_m']:g} m of a plot disclosed as carrying a large or "
                              "major safety risk."})
        elif d["nearest_m"] is not None:
            out.append({"kind": "risk", "zh": f"最近的公示风险地块（较大以上）约 {d['nearest_m']:,.0f} 米。",
                        "en": f"The nearest plot disclosed as carrying a large or major risk is about "
                              f"{d['nearest_m']:,.0f} m away."})
        else:
            out.append({"kind": "risk", "zh": "附近没有公示的较大以上安全风险地块。",
                        "en": "No plot disclosed as carrying a large or major risk is near."})
        shelters = a["shelters"]
        h_zh, h_en = _HAZARD_LABELS.get(hazard, ("", "")) if hazard else ("", "")
        if shelters:
            s = shelters[0]
            name = s["name"] or s["shelter_id"]
            lead_zh = f"{h_zh}时" if hazard else ""
            lead_en = f"In a {h_en}, the" if hazard else "The"
            out.append({"kind": "shelter", "zh": f"{lead_zh}最近的避难场所是{name}，{s['summary_zh']}，可容纳约 {s['capacity'] or 0:,} 人。",
                        "en": f"{lead_en} nearest shelter is {name}, {s['summary_en']}; it holds about "
                              f"{s['capacity'] or 0:,} people."})
            if s["towards_disclosed_plot"]:
                out.append({"kind": "shelter", "zh": "注意：前往该场所的方向经过或靠近公示风险地块，请绕行。",
                            "en": "Mind: the way to it passes near a disclosed risk plot; go round it."})
        else:
            out.append({"kind": "shelter", "zh": f"附近没有适用于{h_zh or '该灾种'}的避难场所数据。",
                        "en": f"No shelter fit for {h_en or 'this hazard'} was found."})
        zh, en = ADVICE.get(hazard, ADVICE[None])
        out.append({"kind": "advice", "zh": zh, "en": en})
        if hazard:
            out.append({"kind": "advice", "zh": ADVICE[None][0], "en": ADVICE[None][1]})
        return out
