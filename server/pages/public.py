"""The public shelter map and its API: no login, and nothing but public data, whoever asks.

=====================================================  ===================================================
``GET /public/shelters``                               the page: search, hazard, locate me, map, list
``GET /public/shelters/{shelter_id}/card``             a shelter card to print (A5, fits A4 too)
``GET /public/basemap/{z}/{x}/{y}.mvt``                the offline basemap (:mod:`server.basemap`)
``GET /api/public/search?q=``                          towns, roads, shelters, stations, coordinates
                                                       (:mod:`server.pages.search`)
``GET /api/public/place?lon=&lat=&hazard=``            "my place" in plain words (:mod:`server.pages.place`)
``GET /api/public/shelters/nearest?lon=&lat=``         the nearest shelters alone
=====================================================  ===================================================

Every answer is built from the **public** view of each layer (:data:`server.auth.PUBLIC`,
:mod:`server.redaction`), so a signed-in planner gets the same answers as a resident. The page
draws the basemap, the plots disclosed as 较大 and above (colour and the plain notice,
公示较大以上安全风险) and the shelters from public vector tiles; a search result, a tap on the
map or "locate me" (``navigator.geolocation``, which browsers allow over https only: the page
says so) asks ``/api/public/place``. The view's address (``?lon=&lat=&hazard=``) opens the same
view, for sharing.

On a phone (below 760 px) the search bar is on top, the map under it and the answer under the
map, each in view without scrolling the page (the answer scrolls in its own box).

>>> [o.id for o in PUBLIC_OVERLAYS], direction_words(100)
(['risk_wall', 'shelters'], ('东', 'east'))
"""

from __future__ import annotations

from urllib.parse import quote

import shapely
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from geo.gcj02 import wgs84_to_gcj02
from layers.catalogue.shelters import CLASSES, HAZARDS, shelter_hazards
from server.auth import PUBLIC
from server.basemap import create_basemap_router
from server.pages.assets import asset_url, basemap_config, offline_map, render_map_page
from server.pages.common import PageNotFound, esc
from server.pages.layers import Overlay, layer_bounds, overlay_configs
from server.pages.place import PlaceFinder, direction_words
from server.pages.public_data import PerVersion
from server.pages.search import SearchIndex
from server.redaction import RISK_NOTICE, Redactor
from server.settings import Settings
from server.source import LayerSource
from zoning.coverage.place import HAZARD_KEYS
from zoning.rules import RuleSet

__all__ = ["PUBLIC_OVERLAYS", "direction_words", "create_public_router"]

#: Overlays of the public map, bottom to top (public views only); the basemap is separate.
PUBLIC_OVERLAYS: tuple[Overlay, ...] = (
    Overlay("risk_wall", "risk_wall", "公示风险地块(较大以上)", "disclosed risk plots (large and above)", on=True),
    Overlay("shelters", "shelters", "应急避难场所", "emergency shelters", on=True),
)
_HAZARD_LABELS = {c.value: (c.zh, c.en) for c in HAZARDS}
_CLASS_LABELS = {c.value: (c.zh, c.en) for c in CLASSES}
_CACHE = {"Cache-Control": "public, max-age=60"}


def _panel(palette, base: str = "") -> str:
    disclosed = "".join(
        f'<li><span class="rm-sw" style="background:{esc(palette.colour(lv))}"></span>{esc(palette.labels_zh[lv - 1])}'
        f' <span class="en">{esc(palette.names[lv - 1])}</span></li>' for lv in sorted(RISK_NOTICE))
    options = "".join(f'<option value="{esc(k)}">{esc(zh)} {esc(en)}</option>' for k, (zh, en) in _HAZARD_LABELS.items())
    return f"""<header class="rm-top" id="rm-top">
<p class="rm-hint rm-home-link"><a href="{esc(base)}/">首页 <span class="en">Home</span></a></p>
<h1>应急避难场所 <span class="en">Emergency shelters</span></h1>
<form id="rm-search-form" class="rm-search" role="search" autocomplete="off">
<input id="rm-search" type="search" enterkeyhint="search" aria-label="搜索 search"
 placeholder="镇、道路、避难场所、拼音或坐标 town, road, shelter, pinyin, lon,lat">
<button type="submit" class="rm-primary">搜索 <span class="en">Search</span></button>
<ul id="rm-search-results" class="rm-search-results" hidden></ul></form>
<div class="rm-row"><label class="rm-hazard">灾种 <span class="en">hazard</span>
<select id="rm-hazard"><option value="">任意 any</option>{options}</select></label>
<button type="button" id="rm-locate">定位我的位置 <span class="en">Locate me</span></button></div>
</header>
<aside class="rm-panel rm-public" id="rm-panel">
<p class="rm-hint" id="rm-where">搜索、定位或点击地图，查看此处的风险和最近的避难场所。<span class="en">Search, locate
or tap the map to see the risk here and the nearest shelters.</span></p>
<section id="rm-place" class="rm-place"></section>
<ol id="rm-results" class="rm-results"></ol>
<section id="rm-advice" class="rm-place"></section>
<p class="rm-share" id="rm-share" hidden>分享此位置 <span class="en">share this place</span>
<input type="text" readonly aria-label="link"><button type="button">复制 <span class="en">copy</span></button></p>
<p class="rm-hint" id="rm-method"></p>
<section class="rm-legend"><h2>图例 <span class="en">Legend</span></h2><ul>
<li><span class="rm-sw rm-sw-shelter-sq"></span>应急避难场所 <span class="en">shelter</span></li>
<li><span class="rm-sw rm-sw-station"></span>消防救援站 <span class="en">fire station</span></li>
<li><span class="rm-sw rm-sw-here"></span>您的位置 <span class="en">you are here</span></li>{disclosed}</ul>
<p class="rm-notice">红色、黄色地块为依规公示的较大以上安全风险地块（公示较大以上安全风险）。详情请咨询所在镇（街道）安全生产监管部门。
<span class="en">Red and yellow plots carry major or large safety risks, disclosed as the plans require; ask the
town's work-safety office for details.</span></p></section>
<div id="rm-status" class="rm-status" data-tiles="0" data-features="0" data-errors="0"></div>
</aside>"""


def _card(s, finder: PlaceFinder, base: str, lon: float | None, lat: float | None) -> str:
    """A shelter card: what a resident pins on a wall or hands out (A5 portrait, prints on A4 too)."""
    cls = str(s["class"])
    cls_zh, cls_en = _CLASS_LABELS.get(cls, (cls, cls))
    point = shapely.point_on_surface(s.geometry)
    glon, glat = wgs84_to_gcj02(point.x, point.y)
    hazards = shelter_hazards([s.get("hazards")]).iloc[0]
    declared = bool(shelter_hazards([s.get("hazards")], declared_only=True).iloc[0])
    tags = " ".join(f'<span class="rm-hz">{esc(_HAZARD_LABELS[h][0])} <span class="en">{esc(_HAZARD_LABELS[h][1])}'
                    f"</span></span>" for h in hazards)
    capacity = finder.capacity_of(s)
    rows = [("类别", "class", f"{esc(cls_zh)} <span class='en'>{esc(cls_en)}</span>"),
            ("适用灾种", "fit for", tags + ("" if declared else " <span class='en'>(按类别默认 default by class)</span>")),
            ("可容纳", "capacity", f"{capacity:,} 人 <span class='en'>persons</span>" if capacity is not None else "–"),
            ("有效面积", "effective area", f"{float(s['effective_area_m2']):,.0f} m²"),
            ("地址", "address", esc(s.get("address")) or "–"),
            ("坐标", "coordinates", f"{point.y:.5f} N, {point.x:.5f} E (WGS84/CGCS2000)<br>"
                                    f"{float(glat):.5f} N, {float(glon):.5f} E (GCJ-02 高德/腾讯)")]
    route = ""
    link = f"{base}/public/shelters?lon={point.x:.6f}&lat={point.y:.6f}"
    if lon is not None and lat is not None:
        answer = finder.shelters(lon, lat, n=10)
        mine = [x for x in answer["shelters"] if x["shelter_id"] == str(s["shelter_id"])]
        if mine:
            route = (f"<p class='rm-card-route'>从 {lat:.5f} N, {lon:.5f} E：{esc(mine[0]['summary_zh'])}<br>"
                     f"<span class='en'>From {lat:.5f} N, {lon:.5f} E: {esc(mine[0]['summary_en'])}</span></p>")
        link = f"{base}/public/shelters?lon={lon:.6f}&lat={lat:.6f}"
    table = "".join(f"<tr><th>{zh} <span class='en'>{en}</span></th><td>{v}</td></tr>" for zh, en, v in rows)
    name = esc(s.get("name")) or esc(s["shelter_id"])
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} 避难场所卡片 shelter card</title>
<link rel="stylesheet" href="{esc(asset_url(base, 'riskmap', 'riskmap.css'))}"></head>
<body class="rm-doc rm-card-page"><article class="rm-card-sheet">
<p class="rm-card-kicker">应急避难场所 <span class="en">Emergency shelter</span> · {esc(s['shelter_id'])}</p>
<h1>{name}</h1>{route}<table class="rm-card-table">{table}</table>
<p class="rm-card-advice">听从广播和现场指挥，沿道路步行前往，不乘电梯。紧急电话 119 / 110 / 120。
<span class="en">Follow the announcements, walk there along the roads, do not use lifts. Emergency numbers 119 / 110 / 120.</span></p>
<p class="rm-card-link">在线地图 <span class="en">map</span>: <a href="{esc(link)}">{esc(link)}</a></p>
<p class="rm-noprint"><button type="button" onclick="window.print()">打印 <span class="en">Print</span></button></p>
</article></body></html>"""


def create_public_router(source: LayerSource, redactor: Redactor, settings: Settings,
                         ruleset: RuleSet) -> APIRouter:
    """The public shelter page, its card, basemap, search and place API (see the module docstring)."""
    router = APIRouter(tags=["Public"])
    finder = PlaceFinder(source, redactor, ruleset)
    index = SearchIndex(source, redactor)
    base = settings.public_url or ""
    router.include_router(create_basemap_router(source, redactor, settings))

    def render_page(infos) -> str:
        bounds = layer_bounds(source, redactor, PUBLIC)
        config = {"page": "public", "base": base, "role": "public", "bounds": bounds,
                  "basemap": base + "/public/basemap/{z}/{x}/{y}.mvt",
                  "overlays": overlay_configs(PUBLIC_OVERLAYS, source, redactor, PUBLIC, base + "/tiles"),
                  "online_basemap": basemap_config(settings.basemap_url, bounds),
                  "place": f"{base}/api/public/place", "search": f"{base}/api/public/search",
                  "nearest": f"{base}/api/public/shelters/nearest", "card": f"{base}/public/shelters/{{id}}/card",
                  "hazards": [{"key": k, "zh": zh, "en": en} for k, (zh, en) in _HAZARD_LABELS.items()]}
        centre = [31.78, 119.95] if bounds is None else [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
        m = offline_map(base, location=centre, zoom_start=11)
        m.default_js = [*m.default_js, ("riskmap_public", asset_url(base, "riskmap", "riskmap-public.js"))]
        return render_map_page(m, title="应急避难场所 Emergency shelters", entry="publicShelters", config=config,
                               body_class="rm-page-public", body=_panel(ruleset.palette(), base))

    # the page is the same for everyone until one of the layers it shows changes: rendered once per
    # version of those (folium's rendering costs tens of milliseconds of the GIL under load)
    page = PerVersion(source, ("admin_areas", "risk_wall", "shelters", *(o.layer for o in PUBLIC_OVERLAYS)),
                      render_page)

    @router.get("/public/shelters", response_class=HTMLResponse, summary="Public shelter map (应急避难场所地图)")
    def public_shelters():
        return HTMLResponse(page.get(), headers=_CACHE)

    @router.get("/public/shelters/{shelter_id}/card", response_class=HTMLResponse,
                summary="A shelter card to print (A5), optionally with the walk from a place")
    def shelter_card(shelter_id: str,
                     lon: float | None = Query(None, ge=-180, le=180, description="Walk from here (longitude)."),
                     lat: float | None = Query(None, ge=-90, le=90, description="Walk from here (latitude).")):
        frame = finder.public_shelters()
        rows = frame[frame["shelter_id"].astype(str) == shelter_id]
        if not len(rows):
            raise PageNotFound(f"no shelter {shelter_id!r}; see {base}/public/shelters")
        return HTMLResponse(_card(rows.iloc[0], finder, base, lon, lat), headers=_CACHE)

    @router.get("/api/public/search", summary="Search towns, roads, shelters, stations or coordinates (public)")
    def public_search(q: str = Query(..., min_length=1, max_length=100, description="Chinese, pinyin, initials or lon,lat."),
                      limit: int = Query(10, ge=1, le=30)):
        return JSONResponse({"query": q, "results": index.search(q, limit)}, headers=_CACHE)

    @router.get("/api/public/place", summary="My place in plain words: zone, disclosed risk, shelters (public)")
    def public_place(
        lon: float = Query(..., ge=-180, le=180, description="Longitude (CGCS2000 / WGS 84 degrees)."),
        lat: float = Query(..., ge=-90, le=90, description="Latitude (CGCS2000 / WGS 84 degrees)."),
        hazard: str | None = Query(None, description=f"One of {', '.join(HAZARD_KEYS)}; none: any shelter."),
        n: int = Query(3, ge=1, le=10, description="How many shelters, best first."),
    ):
        answer = finder.place(lon, lat, hazard, n)
        answer["share"] = f"{base}/public/shelters?lon={lon:.6f}&lat={lat:.6f}" + (
            f"&hazard={quote(answer['hazard'])}" if answer["hazard"] else "")
        return JSONResponse(answer, headers=_CACHE)

    @router.get("/api/public/shelters/nearest", summary="Nearest shelters by walking (public, no login)")
    def nearest_shelters(
        lon: float = Query(..., ge=-180, le=180, description="Longitude (CGCS2000 / WGS 84 degrees)."),
        lat: float = Query(..., ge=-90, le=90, description="Latitude (CGCS2000 / WGS 84 degrees)."),
        n: int = Query(3, ge=1, le=10, description="How many shelters, nearest first."),
        hazard: str | None = Query(None, description=f"One of {', '.join(HAZARD_KEYS)}; none: any shelter."),
    ):
        return JSONResponse(finder.shelters(lon, lat, n, hazard), headers=_CACHE)

    return router

