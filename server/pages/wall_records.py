"""The wall page's records: stale banner, editing forms, the three lists (一图三单), exports, plot history.

=================================================  ============================================
``GET /towns/{code}/lists/{list}.{csv|xlsx}``      the risk, hidden-danger or responsibility list
                                                   of a town (``list``: risk, dangers,
                                                   responsibilities)
``GET /towns/{code}/plots/{plot_id}/history``      a plot's timeline (HTML; ``?f=json`` for JSON)
``GET /grids/{code}/lists/…``, ``…/plots/…``       the same for a grid of a town (网格,
                                                   :mod:`server.pages.areas`)
=================================================  ============================================

:func:`wall_sections` is the HTML the wall page (:mod:`server.pages.wall`) adds below its list: a
banner when derived layers are stale (their input fingerprint is not the current one,
:func:`zoning.pipeline.stale_layers`) saying what to run; the plot form and the danger form
(the page's script sends them to the editing API, :mod:`server.edits_api`); the hidden-danger
list with overdue dangers flagged; the responsibility list; overdue inspections flagged in the
risk list. Who may see them: whoever may open the wall (:func:`server.pages.wall.check_wall_access`).
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo.errors import InputError
from layers.errors import LayerNotFound
from layers.store import Store
from server import html_views as html
from server.auth import Principal
from server.openapi import error_responses
from server.pages.common import esc
from server.pages.areas import KINDS, Areas, WallArea
from server.pages.wall import check_wall_access, wall_rows
from zoning.pipeline import stale_layers
from zoning.rules import RuleSet
from zoning.wall.dangers import STATUSES
from zoning.wall.inspections import inspection_status, parse_inspection_rules
from zoning.wall.registers import LISTS, danger_list, plot_timeline, responsibility_list, risk_list

__all__ = ["town_lists", "wall_sections", "wall_page_sections", "create_wall_records_router", "stale_banner"]

_PLOT_FIELDS = ("risk_major", "risk_large", "risk_general", "risk_low", "rented_buildings", "tenants", "workers")
_TIMELINE_LAYERS = ("industrial_plots", "risk_wall")


def _read(store: Store, layer: str, town: str) -> pd.DataFrame:
    return store.read(layer, where={"town": town}) if store.exists(layer) else pd.DataFrame(
        columns=["plot_id", "town"])


def town_lists(store: Store, ruleset: RuleSet, area: WallArea | str, today=None,
               areas: Areas | None = None) -> dict[str, pd.DataFrame]:
    """The three lists of a town (its code, or a :class:`WallArea`) or of a grid (keys of :data:`LISTS`)."""
    today = today or date.today()
    areas = areas if areas is not None else Areas(store)
    area = areas.find("town", area) if isinstance(area, str) else area

    def read(layer: str) -> pd.DataFrame:
        return areas.rows(area, _read(store, layer, area.town))

    wall = wall_rows(read("risk_wall"))
    inspections = read("inspections")
    if "inspected_on" not in inspections:
        inspections = pd.DataFrame({"plot_id": [], "inspected_on": []})
    status = inspection_status(wall, inspections, parse_inspection_rules(ruleset), today) if len(wall) else None
    dangers = read("hidden_dangers")
    resp = read("responsibilities")
    return {"risk": risk_list(wall, status),
            "dangers": danger_list(dangers, today) if "danger_id" in dangers else danger_list(
                pd.DataFrame(columns=["danger_id", "plot_id", "description", "level", "status", "tag_level",
                                      "deadline", "responsible", "measures", "closed_by", "closed_on"]), today),
            "responsibilities": responsibility_list(resp if "person" in resp else pd.DataFrame(
                columns=["plot_id", "person", "unit", "measures"]), wall)}


def stale_banner(store: Store, ruleset: RuleSet) -> str:
    """A banner naming the stale derived layers and the command that renews them ('' when none)."""
    stale = stale_layers(store, ruleset)
    if not stale:
        return ""
    return ('<div class="rm-banner rm-stale" role="status">派生图层已过期：' + esc("、".join(stale))
            + '。请运行 <code>riskmap zone --store …</code> 重新计算。<span class="en">Derived layers are stale ('
            + esc(", ".join(stale)) + '): their inputs or rules changed since they were computed. Run '
            '<code>riskmap zone --store &lt;store&gt;</code> to renew them.</span></div>')


def _options(values) -> str:
    return "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)


def _forms(plots: pd.DataFrame, dangers: pd.DataFrame) -> str:
    fields = "".join(f'<label>{esc(f)} <input type="number" min="0" name="{f}"></label>' for f in _PLOT_FIELDS)
    open_ids = dangers.loc[dangers["status"] != "closed", "隐患 danger"] if len(dangers) else []
    return (
        '<section class="rm-edit rm-noprint"><h2>编辑地块 <span class="en">Edit a plot</span></h2>'
        '<form id="rm-plot-form"><label>地块 plot <select name="plot_id">' + _options(plots["plot_id"].astype(str))
        + '</select></label> ' + fields
        + '<label>监管等级 grade <select name="supervision_grade"><option value=""></option>'
        + _options("ABCD") + '</select></label>'
        '<label>原因 reason <input name="reason" required></label>'
        '<button type="submit">保存 <span class="en">save</span></button> '
        '<button type="button" id="rm-shape-edit">编辑形状 <span class="en">edit shape</span></button> '
        '<button type="button" id="rm-shape-save">保存形状 <span class="en">save shape</span></button> '
        '<a id="rm-plot-history" href="#">历史 <span class="en">history</span></a>'
        '<output id="rm-plot-result"></output></form>'
        '<h2>隐患闭环 <span class="en">Move a hidden danger along its loop</span></h2>'
        '<form id="rm-danger-form"><label>隐患 danger <select name="danger_id">' + _options(open_ids)
        + '</select></label><label>新状态 step <select name="status">' + _options(STATUSES[1:]) + '</select></label>'
        '<label>挂牌级别 tag <select name="tag_level"><option value=""></option>'
        + _options(("city", "district", "town")) + '</select></label>'
        '<label>期限 deadline <input type="date" name="deadline"></label>'
        '<label>责任 responsible <input name="responsible"></label><label>措施 measures <input name="measures"></label>'
        '<label>资金(万元) funds <input type="number" step="0.1" min="0" name="funds_wan"></label>'
        '<label>时限 time limit <input type="date" name="time_limit"></label>'
        '<label>预案 plan <input name="plan"></label>'
        '<label>验收人 verified by <input name="verified_by"></label>'
        '<label>验收日期 verified on <input type="date" name="verified_on"></label>'
        '<label>销号人 closed by <input name="closed_by"></label>'
        '<label>销号日期 closed on <input type="date" name="closed_on"></label>'
        '<label>原因 reason <input name="reason" required></label>'
        '<button type="submit">提交 <span class="en">submit</span></button><output id="rm-danger-result"></output>'
        '</form></section>')


def _table(frame: pd.DataFrame, css: str, hidden=("status",)) -> str:
    shown = frame.drop(columns=[c for c in hidden if c in frame.columns])
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = "".join(f'<td class="{"rm-overdue" if str(v).startswith("逾期") else ""}">{esc(v)}</td>'
                        for v in values)
        rows.append(f"<tr>{cells}</tr>")
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    return f'<table class="rm-list {css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def wall_sections(store: Store, ruleset: RuleSet, area: WallArea, plots: pd.DataFrame, base: str, today=None,
                  areas: Areas | None = None) -> str:
    """The HTML the wall page adds: banner, forms, the hidden-danger and responsibility lists, exports."""
    lists = town_lists(store, ruleset, area, today, areas)
    prefix = esc(base + area.path)
    links = " · ".join(
        f'{esc(zh)} <a href="{prefix}/lists/{name}.csv">CSV</a> '
        f'<a href="{prefix}/lists/{name}.xlsx">XLSX</a>' for name, (zh, _) in LISTS.items())
    overdue = lists["risk"].get("检查逾期 inspection overdue", pd.Series(dtype=str))
    late = lists["risk"].loc[overdue != "", "地块 plot"].tolist() if len(overdue) else []
    inspections = ('<p class="rm-overdue">检查逾期 <span class="en">inspections overdue</span>: '
                   + esc("、".join(late)) + "</p>") if late else ""
    return (_forms(plots, lists["dangers"]) + '<section class="rm-lists"><h2>一图三单 <span class="en">'
            'the wall and its three lists</span></h2><p class="rm-noprint">导出 <span class="en">export</span>: '
            + links + "</p>" + inspections
            + '<h3>隐患清单 <span class="en">hidden-danger list</span></h3>' + _table(lists["dangers"], "rm-dangers")
            + '<h3>责任清单 <span class="en">responsibility list</span></h3>'
            + _table(lists["responsibilities"], "rm-responsibilities") + "</section>")


def wall_page_sections(store: Store, ruleset: RuleSet, base: str, areas: Areas | None = None):
    """The ``sections`` callable of :func:`server.pages.wall.create_wall_router`: (banner, records)."""
    def sections(area: WallArea, plots: pd.DataFrame) -> tuple[str, str]:
        return stale_banner(store, ruleset), wall_sections(store, ruleset, area, plots, base, areas=areas)

    return sections


def _xlsx(frame: pd.DataFrame, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(frame.columns))
    for values in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None):
        sheet.append(list(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def create_wall_records_router(store: Store, ruleset: RuleSet, principal, base: str = "",
                               areas: Areas | None = None) -> APIRouter:
    """The list exports and the plot history of a town's wall, and of a grid's (网格)."""
    router = APIRouter(tags=["Pages"])
    private = {"Cache-Control": "private, no-store", "Vary": "Authorization, Cookie"}
    areas = areas if areas is not None else Areas(store)

    def export_list(kind: str, code: str, name: str, fmt: str, who: Principal):
        area = areas.find(kind, code)
        check_wall_access(who, area, base)
        if name not in LISTS or fmt not in ("csv", "xlsx"):
            raise InputError(f"lists: {', '.join(LISTS)}; formats: csv, xlsx (got {name}.{fmt})")
        frame = town_lists(store, ruleset, area, areas=areas)[name].drop(columns=["status"], errors="ignore")
        filename = f"{code}_{name}.{fmt}"
        headers = {**private, "Content-Disposition": f'attachment; filename="{filename}"'}
        if fmt == "csv":  # UTF-8 with a BOM: Excel opens Chinese text right
            return Response(frame.to_csv(index=False).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                            headers=headers)
        return Response(_xlsx(frame, LISTS[name][0]), headers=headers,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def history(kind: str, code: str, plot_id: str, f: str, who: Principal):
        area = areas.find(kind, code)
        check_wall_access(who, area, base)
        held = store.read("industrial_plots", where={"plot_id": plot_id, "town": area.town}, include_retired=True)
        if not len(areas.plots_in(area, held)):
            raise LayerNotFound(f"{area.label[1]} {code} has no plot {plot_id!r}")
        entries = [store.audit(layer=layer, feature=plot_id, limit=None) for layer in _TIMELINE_LAYERS]
        for layer, id_field in (("hidden_dangers", "danger_id"), ("inspections", "inspection_id"),
                                ("responsibilities", "responsibility_id")):
            if store.exists(layer):
                ids = store.read(layer, columns=[id_field, "town"], where={"plot_id": plot_id, "town": area.town},
                                 include_retired=True)[id_field]
                entries += [store.audit(layer=layer, feature=str(i), limit=None) for i in ids]
        frames = [e for e in entries if len(e)]
        timeline = plot_timeline(pd.concat(frames, ignore_index=True)) if frames else plot_timeline(
            pd.DataFrame(columns=["when", "actor", "action", "layer", "feature", "detail", "before", "after"]))
        if f == "json":
            return JSONResponse({"plot_id": plot_id, "town": area.town, kind: code,
                                 "entries": timeline.to_dict("records")}, headers=private)
        body = [f'<p><a href="{esc(base + area.path)}/wall">← 风险墙 <span class="en">wall</span></a></p>',
                html.table(timeline.to_dict("records"))]
        return HTMLResponse(html.page(f"{plot_id} 历史 history", body), headers=private)

    def endpoints(kind: str):
        def export(code: str, name: str, fmt: str, who: Principal = Depends(principal)):
            return export_list(kind, code, name, fmt, who)

        def timeline(code: str, plot_id: str, f: str = Query("html"), who: Principal = Depends(principal)):
            return history(kind, code, plot_id, f, who)

        export.__name__, timeline.__name__ = f"{kind}_list", f"{kind}_plot_history"
        return export, timeline

    for kind, (zh, en) in KINDS.items():
        export, timeline = endpoints(kind)
        router.add_api_route(f"/{kind}s/{{code}}/lists/{{name}}.{{fmt}}", export,
                             summary=f"A {en}'s risk, hidden-danger or responsibility list ({zh}一图三单)",
                             responses=error_responses(400, 401, 403, 404))
        router.add_api_route(f"/{kind}s/{{code}}/plots/{{plot_id}}/history", timeline,
                             summary=f"A plot's timeline on a {en}'s wall (colours, edits, dangers)",
                             responses=error_responses(400, 401, 403, 404))
    return router
