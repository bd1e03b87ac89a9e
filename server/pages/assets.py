"""Offline assets and the folium page shell: nothing a page loads comes from another host.

* ``/static/leaflet/...`` - Leaflet 1.9.3's ``dist`` files from the PyPI package
  ``xstatic-leaflet`` (a dependency), so no CDN is needed;
* ``/static/riskmap/...`` - riskmap's own script and stylesheet (``server/static/``): the
  vector-tile layer (:file:`riskmap-vt.js`), the page logic (:file:`riskmap-pages.js`),
  :file:`riskmap.css`.

Static files are answered by one small route (an ``APIRouter`` cannot carry a Starlette
``Mount``): a known root, a path that stays inside it, a known suffix, else a 404.

:func:`offline_map` is a ``folium.Map`` with ``tiles=None`` whose ``default_js`` /
``default_css`` are replaced by the local files above, dropping folium's jQuery, Bootstrap and
Font Awesome (no page uses them). :func:`render_map_page` adds the page's HTML, its JSON config
and the call ``RiskMap.<entry>(map, config)`` and returns the document.

The **basemap** is the store's own admin boundaries and roads, drawn from vector tiles. An
online basemap is added only when ``settings.basemap_url`` names one (:func:`basemap_config`);
an Amap / Tencent style basemap is in GCJ-02, which the pages correct (see there).
"""

from __future__ import annotations

import re
from pathlib import Path

from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from fastapi import APIRouter
from fastapi.responses import FileResponse

from geo.gcj02 import wgs84_to_gcj02
from server.pages.common import PageNotFound, config_block, esc

if TYPE_CHECKING:  # folium and branca cost about a second to import: loaded on the first page (or by warm_up)
    import folium

__all__ = ["STATIC_DIR", "MEDIA_TYPES", "static_roots", "create_static_router", "asset_url", "offline_map",
           "render_map_page", "basemap_config", "GCJ02_HOSTS"]

#: riskmap's own scripts and stylesheets.
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
#: Suffixes served and their media types; anything else is a 404.
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".png": "image/png", ".map": "application/json"}
#: Substrings of basemap URLs whose tiles are in GCJ-02 (Amap / AutoNavi, Tencent).
GCJ02_HOSTS = ("amap", "autonavi", "gaode", "gtimg", "tencent", "qq.com")
_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def static_roots() -> dict[str, Path]:
    """``/static/<root>/`` → folder: ``leaflet`` (xstatic-leaflet's files) and ``riskmap``."""
    import xstatic.pkg.leaflet as leaflet

    return {"leaflet": Path(leaflet.BASE_DIR).resolve(), "riskmap": STATIC_DIR.resolve()}


def create_static_router(max_age: int = 3600) -> APIRouter:
    """``GET /static/{root}/{path}``: the files of :func:`static_roots`."""
    router = APIRouter(include_in_schema=False)
    roots = static_roots()

    @router.get("/static/{root}/{path:path}")
    def static_file(root: str, path: str):
        base = roots.get(root)
        target = (base / path).resolve() if base is not None else None
        if (target is None or not target.is_relative_to(base) or not target.is_file()
                or target.suffix not in MEDIA_TYPES):
            raise PageNotFound(f"no static file {root}/{path}; static roots: {', '.join(roots)}")
        return FileResponse(target, media_type=MEDIA_TYPES[target.suffix],
                            headers={"Cache-Control": f"public, max-age={max_age}"})

    return router


def asset_url(base: str, root: str, name: str) -> str:
    """URL of a static file: ``{base}/static/{root}/{name}`` (base "" → a path on this host).

    >>> asset_url("", "leaflet", "leaflet.js")
    '/static/leaflet/leaflet.js'
    """
    return f"{base}/static/{root}/{name}"


def offline_map(base: str = "", **kwargs) -> folium.Map:
    """A ``folium.Map`` loading Leaflet and riskmap's scripts from this server only.

    Parameters
    ----------
    base : str
        The server's base URL ("" for paths on the host that served the page).
    **kwargs
        Passed to ``folium.Map`` (``tiles`` is always None: the basemap is added by the page).

    >>> m = offline_map(location=[31.7, 120.0])
    >>> "cdn" in m.get_root().render()
    False
    """
    import folium

    kwargs = {"control_scale": True, "zoom_start": 11, **kwargs, "tiles": None}
    m = folium.Map(**kwargs)
    m.default_js = [("leaflet", asset_url(base, "leaflet", "leaflet.js")),
                    ("riskmap_vt", asset_url(base, "riskmap", "riskmap-vt.js")),
                    ("riskmap_pages", asset_url(base, "riskmap", "riskmap-pages.js"))]
    m.default_css = [("leaflet_css", asset_url(base, "leaflet", "leaflet.css")),
                     ("riskmap_css", asset_url(base, "riskmap", "riskmap.css"))]
    return m


@cache
def _page_script_class() -> type:
    """The folium element calling ``RiskMap.<entry>(map, config)`` (built on first use: branca is slow to import)."""
    from branca.element import MacroElement
    from jinja2 import Template

    class PageScript(MacroElement):
        """Calls ``RiskMap.<entry>(map, config)`` once folium has created the map."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "RiskMap.{{ this.entry }}({{ this._parent.get_name() }}, RiskMap.config());"
            "{% endmacro %}")

        def __init__(self, entry: str):
            super().__init__()
            if not _ENTRY.match(entry):
                raise ValueError(f"page entry must be an identifier, got {entry!r}")
            self._name = "RiskMapPage"
            self.entry = entry

    return PageScript


def render_map_page(m: folium.Map, *, title: str, entry: str, config: dict, body: str = "",
                    body_class: str = "", lang: str = "zh-CN") -> str:
    """The HTML document of a page around map ``m``.

    Parameters
    ----------
    m : folium.Map
        From :func:`offline_map`.
    title : str
        The document title (escaped here).
    entry : str
        Name of the function of ``RiskMap`` (``riskmap-pages.js``) that sets the page up.
    config : dict
        JSON handed to that function (:func:`server.pages.common.config_block`).
    body : str
        HTML placed in the body beside the map (already escaped by the caller).
    body_class : str
        Class of the ``<body>`` element (the page's layout in ``riskmap.css``).
    lang : str
        The document's language.
    """
    from branca.element import Element

    figure = m.get_root()
    figure.header.add_child(Element(f"<title>{esc(title)}</title>"), name="riskmap_title")
    figure.html.add_child(Element(body + config_block(config)), name="riskmap_body")
    _page_script_class()(entry).add_to(m)
    document = figure.render()
    document = document.replace("<html>", f'<html lang="{esc(lang)}">', 1)
    return document.replace("<body>", f'<body class="rm-page {esc(body_class)}">', 1)


def basemap_config(url: str | None, bounds=None, step: float = 0.05) -> dict | None:
    """The online basemap for a page's script, or None (the default: every page stays offline).

    The store is in CGCS2000 longitude/latitude (WGS 84 to a few centimetres); an Amap or
    Tencent basemap (:data:`GCJ02_HOSTS`) draws China in GCJ-02, a few hundred metres off. For
    such a basemap the config carries the GCJ-02 offset on a grid of ``step`` degrees over
    ``bounds`` (computed with :func:`geo.gcj02.wgs84_to_gcj02`); the page interpolates it at
    the centre of the view and shifts the basemap tiles back by it, which aligns them with the
    data to a few metres across the view. 天地图 (CGCS2000) and OpenStreetMap need no shift.

    >>> basemap_config(None) is None
    True
    >>> cfg = basemap_config("https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
    ...                      (119.9, 31.7, 120.1, 31.8))
    >>> cfg["gcj02"], len(cfg["offsets"]["dlon"]) == len(cfg["offsets"]["lats"])
    (True, True)
    """
    if not url:
        return None
    gcj = any(host in url.lower() for host in GCJ02_HOSTS)
    config = {"url": url, "gcj02": gcj,
              "attribution": "底图 basemap: " + esc(url.split("/")[2] if "//" in url else url)}
    if gcj:
        config["note"] = ("底图为 GCJ-02 坐标(高德/腾讯)，已按本图中心的偏移量平移对齐本图数据 (CGCS2000)。"
                          " The basemap is in GCJ-02 (Amap/Tencent); it is shifted by the local offset to "
                          "line up with the data (CGCS2000).")
        if bounds is not None:
            w, s, e, n = bounds
            lons = np.arange(np.floor((w - 0.1) / step) * step, e + 0.1 + step, step)
            lats = np.arange(np.floor((s - 0.1) / step) * step, n + 0.1 + step, step)
            grid_lon, grid_lat = np.meshgrid(lons, lats)
            glon, glat = wgs84_to_gcj02(grid_lon, grid_lat)
            config["offsets"] = {"lons": np.round(lons, 6).tolist(), "lats": np.round(lats, 6).tolist(),
                                 "dlon": np.round(glon - grid_lon, 8).tolist(),
                                 "dlat": np.round(glat - grid_lat, 8).tolist()}
    return config
