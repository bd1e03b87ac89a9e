"""``GET /towns/{code}/wall``: a town's four-colour risk wall (四色安全风险墙), for a screen or A3.

``GET /grids/{code}/wall`` is the same wall for one grid (网格) of a town (:mod:`server.pages.areas`),
naming its grid officer (网格员); a town's wall lists its grids with their counts per colour and
officers (:func:`grids_section`).

The page a town's safety office puts on its wall: the count of plots per colour in big coloured
tiles (with their area), the map of the town's plots in their colours, and the list of plots
grouped by colour, red first, each with the reasons behind its colour (Chinese first, English
below, :func:`server.pages.common.reasons_html`). It prints on one A3 landscape sheet
(``@page { size: A3 landscape }`` in ``riskmap.css``).

The score column: a plot's colour is the most severe of its reasons; its 0-100 score
(``[classification.score]`` of the rule set, :func:`zoning.wall.classify.classify_plots`) is a
weighted sum of its risk-report items, rented buildings, tenants, workers, hazards and open
dangers, and only orders plots *within* one colour. A yellow plot may score above a red one, so
the list is grouped by colour, the column says "within colour", and the page explains what the
score adds up (:func:`score_note`, built from the rule set's own weights).

Who may open it: the town's own editor (a ``town_editor`` token scoped to this code; for a grid's
wall, to the grid or its town), planners and admins. Without a credential it is an
:class:`~server.errors.AccessDenied` with a sign-in URL: a browser is sent to
``/login?next=/towns/<code>/wall``, an API client gets a 401 naming the credential needed; a token
of another town (or grid) is a 403. An unknown town or grid code is a 404 listing some known codes. Counts and areas are the engine's
(:func:`zoning.wall.classify.summarise_wall`); the plots come through the caller's view of
``risk_wall`` (:mod:`server.redaction`). The plots are drawn from GeoJSON in the page (a town
holds tens to a few thousand plots), the basemap from vector tiles.

Below the list, :mod:`server.pages.wall_records` adds the wall's records (through ``sections``):
a banner when derived layers are stale, the forms that edit a plot (fields and outline) and move
a hidden danger along its loop through the editing API, the hidden-danger and responsibility
lists with overdue flags, and the exports of the three lists.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from layers.errors import LayerNotFound
from server.auth import PUBLIC, Principal
from layers.catalogue import CATALOGUE
from server.errors import AccessDenied, Forbidden
from server.pages.areas import Areas, WallArea
from server.pages.assets import offline_map, render_map_page
from server.pages.common import esc, plain, reasons_html
from server.pages.layers import BASEMAP_LAYERS, overlay_configs
from server.pages.session import login_link, role_label
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from zoning.wall.classify import parse_classification_rules, summarise_wall
from zoning.wall.grids import grid_counts
from zoning.rules import LEVELS, RuleSet

__all__ = ["may_open_wall", "check_wall_access", "wall_rows", "score_note", "create_wall_router"]

_MAP_FIELDS = ["plot_id", "level", "colour", "colour_zh", "score"]
_DARK_TEXT = {"yellow", "green", "orange"}
#: Labels of the score inputs that are not a column of industrial_plots under the same name.
_SCORE_LABELS = {"major_hazard": ("重大危险源等级", "major hazard source grade")}


def may_open_wall(who: Principal, area: WallArea) -> bool:
    """Whether ``who`` may open the wall of ``area`` (a town, or a grid: its editor's, or its town's).

    >>> town, grid = WallArea("town", "T1", "镇", town="T1"), WallArea("grid", "T1-G1", "网格", town="T1")
    >>> may_open_wall(Principal("town_editor", "T1"), town), may_open_wall(PUBLIC, town)
    (True, False)
    >>> may_open_wall(Principal("town_editor", "T2"), town), may_open_wall(Principal("planner"), town)
    (False, True)
    >>> may_open_wall(Principal("town_editor", "T1"), grid), may_open_wall(Principal("town_editor", "T1-G1"), grid)
    (True, True)
    >>> may_open_wall(Principal("town_editor", "T1-G1"), town)
    False
    """
    return who.covers(area.town, area.grid) if area.grid is not None else who.covers(area.code)


def check_wall_access(who: Principal, area: WallArea, base: str, page: str | None = None) -> None:
    """Refuse (401 with a sign-in link, or 403) a caller who may not open ``area``'s wall or its lists."""
    if may_open_wall(who, area):
        return
    zh, en = area.label
    if who.is_public:
        sign_in = base + login_link(page or f"{area.path}/wall")
        raise AccessDenied(f"{zh}风险墙需要登录 the risk wall of {en} {area.code} needs its editor's token, "
                           f"a planner's or an admin's: sign in at {sign_in}", sign_in=sign_in)
    mine = ", ".join(who.towns) or "no town"
    raise Forbidden(f"this token is for {mine}, not {en} {area.code} (此令牌属于 {mine}，不能查看{zh} {area.code})")


def wall_rows(plots: pd.DataFrame) -> pd.DataFrame:
    """The plots in wall order: level 1 (red) first, then by score (highest first), then id."""
    score = pd.to_numeric(plots["score"], errors="coerce") if "score" in plots else pd.Series(0.0, index=plots.index)
    order = pd.DataFrame({"level": pd.to_numeric(plots["level"], errors="coerce").fillna(5), "score": -score.fillna(0),
                          "plot_id": plots["plot_id"].astype(str)}, index=plots.index)
    return plots.loc[order.sort_values(["level", "score", "plot_id"], kind="stable").index]


def score_note(ruleset: RuleSet) -> str:
    """What the score adds up, from ``[classification.score]``: inputs by weight, in 中文 and English.

    >>> from zoning.rules import load_ruleset
    >>> note = score_note(load_ruleset())
    >>> "同一颜色内" in note and "重大风险数 20%" in note and "within one colour" in note
    True
    """
    inputs = sorted(parse_classification_rules(ruleset).score, key=lambda i: -i.weight)
    total = sum(i.weight for i in inputs)
    fields = {f.name: (f.zh, f.en) for f in CATALOGUE["industrial_plots"].fields}
    parts_zh, parts_en = [], []
    for i in inputs:
        if i.weight <= 0:
            continue
        zh, en = _SCORE_LABELS.get(i.name) or fields.get(i.name, (i.name, i.name))
        share = f"{100 * i.weight / total:.0f}%"
        parts_zh.append(f"{zh} {share}")
        parts_en.append(f"{en} {share}")
    return ('<details class="rm-score-note" open><summary>同色排序分 <span class="en">score within a colour</span>'
            '</summary><p>地块颜色由定级依据中最严重的一条决定，与评分无关。评分（0–100）只用于同一颜色内的先后排序，'
            f'由以下各项加权累加（每项达到规则集的满分值即计满）：{esc("、".join(parts_zh))}。不同颜色地块的评分不可相互比较。'
            '<br><span class="en">A plot\'s colour comes from the most severe of its reasons, not from the score. '
            'The score (0–100) only orders plots within one colour: a weighted sum of the items below, each '
            f'counted up to the rule set\'s full mark: {esc(", ".join(parts_en))}. Scores of different colours '
            'are not comparable.</span></p></details>')


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


def _table(rows: pd.DataFrame, area: WallArea) -> str:
    if not len(rows):
        zh, en = area.label
        return f'<p class="rm-hint">本{zh}尚无地块。<span class="en">No plots in this {en}.</span></p>'
    body = []
    levels = pd.to_numeric(rows["level"], errors="coerce").fillna(0).astype(int).to_numpy()
    for i, (level, r) in enumerate(zip(levels, rows.itertuples(index=False)), start=1):
        get = r._asdict().get
        if i == 1 or level != levels[i - 2]:
            count = int((levels == level).sum())
            body.append(f'<tr class="rm-group"><th colspan="6"><span class="rm-sw" style="background:'
                        f'{esc(get("colour"))}"></span>{esc(get("colour_zh"))} <span class="en">'
                        f'{esc(get("colour_name"))}</span> · {count} 块 <span class="en">plots</span></th></tr>')
        body.append(
            f'<tr><td class="num">{i}</td><td>{esc(get("plot_id"))}</td><td>{esc(get("enterprise"))}</td>'
            f'<td><span class="rm-sw" style="background:{esc(get("colour"))}" title="{esc(get("colour_zh"))}"></span></td>'
            f'<td class="num">{esc(plain(get("score")))}</td><td>{reasons_html(get("reasons"))}</td></tr>')
    return ('<table class="rm-list"><thead><tr><th>#</th><th>地块 <span class="en">plot</span></th>'
            '<th>企业 <span class="en">enterprise</span></th><th>颜色 <span class="en">colour</span></th>'
            '<th>同色排序分 <span class="en">score within colour</span></th>'
            '<th>定级依据 <span class="en">reasons</span></th></tr></thead>'
            "<tbody>" + "".join(body) + "</tbody></table>")


def _geojson(frame: pd.DataFrame, columns: list[str]) -> dict:
    keep = [c for c in columns if c in frame]
    geoms = shapely.set_precision(np.asarray(frame.geometry.values, dtype=object), 1e-7)
    features = [{"type": "Feature", "properties": {c: plain(v) for c, v in zip(keep, values)},
                 "geometry": json.loads(shapely.to_geojson(g))}
                for values, g in zip(frame[keep].itertuples(index=False, name=None), geoms)
                if g is not None and not g.is_empty]
    return {"type": "FeatureCollection", "features": features}


def _officer(area: WallArea, base: str) -> str:
    if area.grid is None:
        return ""
    phone = f" ☎ {esc(area.officer_phone)}" if area.officer_phone else ""
    return (f' · 网格员 <span class="en">grid officer</span> {esc(area.officer or "未指定 none named")}{phone}'
            f' · <a href="{esc(base)}/towns/{esc(area.town)}/wall">所属镇街 <span class="en">town</span> '
            f'{esc(area.town)}</a>')


def grids_section(area: WallArea, plots: pd.DataFrame, areas: Areas, palette, colours: dict[int, str],
                  base: str) -> str:
    """A town wall's table of its grids: counts per colour, the grid officer, a link to each grid's wall."""
    grids = areas.grids(area.code) if area.grid is None else None
    if grids is None or not len(grids):
        return ""
    counts = grid_counts(plots["level"], areas.grid_of(plots) if len(plots) else pd.Series(dtype=object), grids)
    head = "".join(f'<th class="num"><span class="rm-sw" style="background:{esc(colours[lv])}"></span>{esc(zh)}</th>'
                   for lv, zh in zip(LEVELS, palette.labels_zh))
    body = []
    for r in counts.itertuples(index=False):
        cells = "".join(f'<td class="num">{int(getattr(r, f"count_{lv}"))}</td>' for lv in LEVELS)
        link = (f'<a href="{esc(base)}/grids/{esc(r.code)}/wall">{esc(r.code)}</a>' if r.code else
                '不在网格内 <span class="en">in no grid</span>')
        phone = f" ☎ {esc(r.officer_phone)}" if r.officer_phone else ""  # the wall is its editors' only
        body.append(f'<tr><td>{link}</td><td>{esc(r.name or "")}</td><td>{esc(r.officer or "")}{phone}</td>{cells}'
                    f'<td class="num">{int(r.count_total)}</td></tr>')
    return ('<section class="rm-grids"><h2>网格 <span class="en">grids</span></h2><table class="rm-list rm-grid-list">'
            '<thead><tr><th>网格 <span class="en">grid</span></th><th>名称 <span class="en">name</span></th>'
            f'<th>网格员 <span class="en">grid officer</span></th>{head}<th class="num">合计 <span class="en">total'
            '</span></th></tr></thead><tbody>' + "".join(body) + "</tbody></table></section>")


def create_wall_router(source: LayerSource, redactor: Redactor, settings: Settings, principal,
                       ruleset: RuleSet, sections=None, areas: Areas | None = None) -> APIRouter:
    """The ``/towns/{code}/wall`` and ``/grids/{code}/wall`` pages (see the module docstring).

    ``sections(area, plots) -> (html above, html below the list)`` adds the records of the wall
    (the stale banner, editing forms and lists of :mod:`server.pages.wall_records`); ``areas``
    finds the town or grid (:mod:`server.pages.areas`; by default over ``source``'s store).
    """
    router = APIRouter(tags=["Pages"])
    base = settings.public_url or ""
    areas = areas if areas is not None else Areas(source.store, source.towns)

    def area_wall(kind: str, code: str, who: Principal) -> HTMLResponse:
        area = areas.find(kind, code)
        check_wall_access(who, area, base)
        zh, en = area.label
        infos = source.infos()
        if "risk_wall" not in infos:
            raise LayerNotFound("the store has no risk_wall layer yet: run `riskmap zone` on it first")
        wall = source.frame(redactor.view("risk_wall", who), infos["risk_wall"])
        plots = wall_rows(areas.rows(area, wall))
        admin = source.frame(redactor.view("admin_areas", PUBLIC), infos["admin_areas"])
        palette = ruleset.palette()
        summary = summarise_wall(plots, admin, palette=palette) if len(plots) else None
        row = summary[summary["code"] == area.town].iloc[0] if summary is not None else None
        seen = plots.drop_duplicates("level").set_index("level")["colour"] if len(plots) else pd.Series(dtype=str)
        colours = {lv: str(seen.get(lv, palette.colour(lv))) for lv in LEVELS}
        parent = admin[admin["code"].astype(str) == str(area.parent)]
        parent_name = str(parent["name"].iloc[0]) if len(parent) else ""
        boundary = admin[admin["code"].astype(str) == code]
        info = infos["risk_wall"]

        import folium  # slow to import: on the first page, not at startup

        m = offline_map(base, zoom_start=13)
        grids = areas.grids(code) if area.grid is None else boundary.iloc[:0]
        if len(grids):
            folium.GeoJson(_geojson(grids.to_crs(boundary.crs), ["code", "name"]), name="grids",
                           style_function=lambda f: {"color": "#666", "weight": 1, "fill": False, "dashArray": "2 4"},
                           tooltip=folium.GeoJsonTooltip(fields=["code", "name"])).add_to(m)
        if len(boundary):
            folium.GeoJson(_geojson(boundary, ["code", "name"]), name=kind,
                           style_function=lambda f: {"color": "#333", "weight": 2, "fill": False, "dashArray": "6 4"},
                           ).add_to(m)
        if len(plots):
            folium.GeoJson(
                _geojson(plots, _MAP_FIELDS), name="plots",
                style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#222", "weight": 0.8,
                                          "fillOpacity": 1.0},
                popup=folium.GeoJsonPopup(fields=["plot_id", "colour_zh", "score"],
                                          aliases=["地块 plot", "风险等级 level", "同色排序分 score within colour"]),
            ).add_to(m)
        shown = plots if len(plots) else boundary
        if len(shown):
            w, s, e, n = shapely.total_bounds(np.asarray(shown.geometry.values, dtype=object))
            m.fit_bounds([[s, w], [n, e]], padding=(12, 12))
        header = (f'<header class="rm-wall-head"><h1>{esc(area.name)}四色安全风险墙 '
                  f'<span class="en">{en.capitalize()} risk wall · {esc(code)}</span></h1>'
                  f'<p>{esc(parent_name)} · {len(plots)} 块地块 <span class="en">plots</span> · '
                  f'规则 <span class="en">rules</span> {esc(info.ruleset_version or "–")} · '
                  f'更新 <span class="en">updated</span> {esc((info.updated_at or "")[:10])} · '
                  f'{esc(role_label(who))}{_officer(area, base)}</p>'
                  '<nav class="rm-noprint"><button type="button" onclick="window.print()">打印 A3 '
                  f'<span class="en">Print</span></button> <a href="{esc(base)}/map">风险地图 <span class="en">'
                  f'map</span></a> <a href="{esc(base)}/">首页 <span class="en">home</span></a></nav></header>')
        generated = ("generated" in plots and plots["generated"].fillna(False).astype(bool).any())
        footer = ('<footer class="rm-wall-foot">'
                  + ("演示数据（部分为生成数据）。<span class='en'>Demo data, partly generated.</span> " if generated else "")
                  + "内部资料，请勿对外公开。<span class='en'>Internal: not for public display.</span></footer>")
        top, below = sections(area, plots) if sections is not None else ("", "")
        body = (top + header + _tiles(row, palette, colours) + grids_section(area, plots, areas, palette, colours, base)
                + '<section class="rm-wall-list">' + _table(plots, area) + score_note(ruleset) + "</section>"
                + below + footer)
        config = {"page": "wall", "base": base, "town": area.town, "area": area.path,
                  "basemap_layers": overlay_configs(BASEMAP_LAYERS, source, redactor, PUBLIC, base + "/tiles")}
        html = render_map_page(m, title=f"{area.name} 四色安全风险墙 {en.capitalize()} risk wall {code}", entry="wall",
                               body_class="rm-page-wall", config=config, body=body)
        return HTMLResponse(html, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"})

    @router.get("/towns/{code}/wall", response_class=HTMLResponse, summary="Town risk wall (镇街四色安全风险墙)")
    def town_wall(code: str, who: Principal = Depends(principal)):
        return area_wall("town", code, who)

    @router.get("/grids/{code}/wall", response_class=HTMLResponse, summary="Grid risk wall (网格四色安全风险墙)")
    def grid_wall(code: str, who: Principal = Depends(principal)):
        return area_wall("grid", code, who)

    return router
