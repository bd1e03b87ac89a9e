"""``GET /towns/{code}/wall``: a town's four-colour risk wall (四色安全风险墙), for a screen or A3.

The page a town's safety office puts on its wall: the count of plots per colour in big coloured
tiles (with their area), the map of the town's plots in their colours, and the list of plots
sorted red first, each with the reasons behind its colour. It prints on one A3 landscape sheet
(``@page { size: A3 landscape }`` in ``riskmap.css``).

Who may open it: the town's own editor (a ``town_editor`` token scoped to this code, or an
unscoped one), planners and admins; anyone else gets a 401 naming the credential needed. An
unknown town code is a 404 listing some known codes. Counts and areas are the engine's
(:func:`zoning.wall.classify.summarise_wall`); the plots come through the caller's view of
``risk_wall`` (:mod:`server.redaction`). The plots are drawn from GeoJSON in the page (a town
holds tens to a few thousand plots), the basemap from vector tiles.
"""

from __future__ import annotations

import json

import folium
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from layers.errors import LayerNotFound
from server.auth import PUBLIC, Principal
from server.errors import AccessDenied, Forbidden
from server.pages.assets import offline_map, render_map_page
from server.pages.common import PageNotFound, esc, plain
from server.pages.layers import BASEMAP_LAYERS, overlay_configs, town_table
from server.pages.session import login_link, role_label
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from zoning.wall.classify import summarise_wall
from zoning.rules import LEVELS, RuleSet

__all__ = ["may_open_wall", "wall_rows", "create_wall_router"]

_MAP_FIELDS = ["plot_id", "level", "colour", "colour_zh", "score"]
_DARK_TEXT = {"yellow", "green", "orange"}


def may_open_wall(who: Principal, code: str) -> bool:
    """Whether ``who`` may open the wall of town ``code``.

    >>> may_open_wall(Principal("town_editor", "320412015"), "320412015"), may_open_wall(PUBLIC, "320412015")
    (True, False)
    >>> may_open_wall(Principal("town_editor", "320412001"), "320412015"), may_open_wall(Principal("planner"), "x")
    (False, True)
    """
    if who.at_least("planner"):
        return True
    return who.role == "town_editor" and (who.town is None or who.town == code)


def wall_rows(plots: pd.DataFrame) -> pd.DataFrame:
    """The plots in wall order: level 1 (red) first, then by score (highest first), then id."""
    score = pd.to_numeric(plots["score"], errors="coerce") if "score" in plots else pd.Series(0.0, index=plots.index)
    order = pd.DataFrame({"level": pd.to_numeric(plots["level"], errors="coerce").fillna(5), "score": -score.fillna(0),
                          "plot_id": plots["plot_id"].astype(str)}, index=plots.index)
    return plots.loc[order.sort_values(["level", "score", "plot_id"], kind="stable").index]


def _reasons(text) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return ""
    return "<ul>" + "".join(f"<li>{esc(r.strip())}</li>" for r in str(text).split(";") if r.strip()) + "</ul>"


def _tiles(summary: pd.Series | None, palette, colours: dict[int, str]) -> str:
    out = []
    for level, name, label in zip(LEVELS, palette.names, palette.labels_zh):
        count = int(summary.get(f"count_{name}", 0)) if summary is not None else 0
        area = float(summary.get(f"area_{name}_m2", 0.0)) if summary is not None else 0.0
        text = "rm-dark" if name in _DARK_TEXT else ""
        out.append(f'<div class="rm-tile {text}" style="background:{esc(colours[level])}">'
                   f'<div class="rm-count">{count}</div><div>{esc(label)}</div>'
                   f'<div class="en">{esc(name)} · {area / 1e4:,.1f} ha</div></div>')
    return '<section class="rm-tiles">' + "".join(out) + "</section>"


def _table(rows: pd.DataFrame) -> str:
    body = []
    for i, r in enumerate(rows.itertuples(index=False), start=1):
        get = r._asdict().get
        body.append(
            f'<tr><td class="num">{i}</td><td>{esc(get("plot_id"))}</td><td>{esc(get("enterprise"))}</td>'
            f'<td><span class="rm-sw" style="background:{esc(get("colour"))}"></span>{esc(get("colour_zh"))}</td>'
            f'<td class="num">{esc(plain(get("score")))}</td><td>{_reasons(get("reasons"))}</td></tr>')
    if not body:
        return '<p class="rm-hint">本镇街尚无地块。<span class="en">No plots in this town.</span></p>'
    return ('<table class="rm-list"><thead><tr><th>#</th><th>地块 <span class="en">plot</span></th>'
            '<th>企业 <span class="en">enterprise</span></th><th>风险等级 <span class="en">level</span></th>'
            '<th>评分 <span class="en">score</span></th><th>定级依据 <span class="en">reasons</span></th></tr></thead>'
            "<tbody>" + "".join(body) + "</tbody></table>")


def _geojson(frame: pd.DataFrame, columns: list[str]) -> dict:
    keep = [c for c in columns if c in frame]
    geoms = shapely.set_precision(np.asarray(frame.geometry.values, dtype=object), 1e-7)
    features = [{"type": "Feature", "properties": {c: plain(v) for c, v in zip(keep, values)},
                 "geometry": json.loads(shapely.to_geojson(g))}
                for values, g in zip(frame[keep].itertuples(index=False, name=None), geoms)
                if g is not None and not g.is_empty]
    return {"type": "FeatureCollection", "features": features}


def create_wall_router(source: LayerSource, redactor: Redactor, settings: Settings, principal,
                       ruleset: RuleSet) -> APIRouter:
    """The ``/towns/{code}/wall`` page (see the module docstring)."""
    router = APIRouter(tags=["Pages"])
    base = settings.public_url or ""

    @router.get("/towns/{code}/wall", response_class=HTMLResponse, summary="Town risk wall (镇街四色安全风险墙)")
    def town_wall(code: str, who: Principal = Depends(principal)):
        towns = town_table(source, redactor, PUBLIC)
        match = towns[towns["code"] == code]
        if match.empty:
            known = ", ".join(f"{t.code} {t.name}" for t in towns.head(12).itertuples()) or "none"
            raise PageNotFound(f"未找到镇街代码 unknown town code {code!r}; towns: {known}"
                               + (" …" if len(towns) > 12 else ""))
        if not may_open_wall(who, code):
            if who.is_public:
                raise AccessDenied(f"镇街风险墙需要登录 the risk wall of town {code} needs the town's editor token, "
                                   f"a planner's or an admin's: sign in at {base}{login_link(f'/towns/{code}/wall')}")
            raise Forbidden(f"this token is for town {who.town}, not {code} "
                               f"(此令牌属于镇街 {who.town}，不能查看 {code})")
        town = match.iloc[0]
        infos = source.infos()
        if "risk_wall" not in infos:
            raise LayerNotFound("the store has no risk_wall layer yet: run `riskmap zone` on it first")
        wall = source.frame(redactor.view("risk_wall", who), infos["risk_wall"])
        plots = wall_rows(wall[wall["town"].astype(str) == code])
        admin = source.frame(redactor.view("admin_areas", PUBLIC), infos["admin_areas"])
        palette = ruleset.palette()
        summary = summarise_wall(plots, admin, palette=palette) if len(plots) else None
        row = summary[summary["code"] == code].iloc[0] if summary is not None else None
        seen = plots.drop_duplicates("level").set_index("level")["colour"] if len(plots) else pd.Series(dtype=str)
        colours = {lv: str(seen.get(lv, palette.colour(lv))) for lv in LEVELS}
        district = admin[admin["code"].astype(str) == str(town.get("parent"))]
        district_name = str(district["name"].iloc[0]) if len(district) else ""
        boundary = admin[admin["code"].astype(str) == code]
        info = infos["risk_wall"]

        m = offline_map(base, zoom_start=13)
        if len(boundary):
            folium.GeoJson(_geojson(boundary, ["code", "name"]), name="town",
                           style_function=lambda f: {"color": "#333", "weight": 2, "fill": False, "dashArray": "6 4"},
                           ).add_to(m)
        if len(plots):
            folium.GeoJson(
                _geojson(plots, _MAP_FIELDS), name="plots",
                style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#222", "weight": 0.8,
                                          "fillOpacity": 1.0},
                popup=folium.GeoJsonPopup(fields=["plot_id", "colour_zh", "score"],
                                          aliases=["地块 plot", "风险等级 level", "评分 score"]),
            ).add_to(m)
        shown = plots if len(plots) else boundary
        if len(shown):
            w, s, e, n = shapely.total_bounds(np.asarray(shown.geometry.values, dtype=object))
            m.fit_bounds([[s, w], [n, e]], padding=(12, 12))
        header = (f'<header class="rm-wall-head"><h1>{esc(town.get("name"))}四色安全风险墙 '
                  f'<span class="en">Town risk wall · {esc(code)}</span></h1>'
                  f'<p>{esc(district_name)} · {len(plots)} 块地块 <span class="en">plots</span> · '
                  f'规则 <span class="en">rules</span> {esc(info.ruleset_version or "–")} · '
                  f'更新 <span class="en">updated</span> {esc((info.updated_at or "")[:10])} · '
                  f'{esc(role_label(who))}</p>'
                  '<nav class="rm-noprint"><button type="button" onclick="window.print()">打印 A3 '
                  f'<span class="en">Print</span></button> <a href="{esc(base)}/map">风险地图 <span class="en">'
                  'map</span></a></nav></header>')
        generated = ("generated" in plots and plots["generated"].fillna(False).astype(bool).any())
        footer = ('<footer class="rm-wall-foot">'
                  + ("演示数据（部分为生成数据）。<span class='en'>Demo data, partly generated.</span> " if generated else "")
                  + "内部资料，请勿对外公开。<span class='en'>Internal: not for public display.</span></footer>")
        body = (header + _tiles(row, palette, colours) + '<section class="rm-wall-list">' + _table(plots)
                + "</section>" + footer)
        config = {"page": "wall", "base": base, "town": code,
                  "basemap_layers": overlay_configs(BASEMAP_LAYERS, source, redactor, PUBLIC, base + "/tiles")}
        html = render_map_page(m, title=f"{town.get('name')} 四色安全风险墙 Town risk wall {code}", entry="wall",
                               body_class="rm-page-wall", config=config, body=body)
        return HTMLResponse(html, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"})

    return router
