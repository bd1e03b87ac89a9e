"""What the map pages draw: overlays, popup fields, the legend and the towns list.

Presentation only (which layer in which order, labels in Chinese and English, default
visibility, legend symbol); what a caller may see of each layer is decided by the
:class:`~server.redaction.Redactor`, and colours of the four levels come from the rule set's
palette or the layers' own ``colour`` column.

The layer control and the legend are both built from the overlays a caller may see
(:func:`overlay_configs`), so neither names a layer the caller cannot open: a public caller's
map lists no hazard site, protected target, buffer or grid zone anywhere on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from layers.catalogue import CATALOGUE
from server.auth import Principal
from server.pages.common import esc
from server.redaction import LayerView, Redactor
from server.source import LayerSource
from zoning.rules import Palette

__all__ = ["Overlay", "PLANNER_OVERLAYS", "BASEMAP_LAYERS", "POPUP_FIELDS", "overlay_configs",
           "popup_fields", "legend_html", "town_table", "layer_bounds"]


@dataclass(frozen=True)
class Overlay:
    """One toggleable layer of a map page.

    ``layer`` is the store layer; ``only`` keeps the rows whose ``zone_kind`` equals it (the two
    kinds of risk zones are two overlays); ``kind`` is ``vector`` (MVT) or ``raster`` (PNG).
    ``swatch`` names its legend symbol (CSS class ``rm-sw-<swatch>`` in ``riskmap.css``);
    ``four_colours`` marks a layer drawn in the palette's colours (the legend then shows them).
    """

    id: str
    layer: str
    zh: str
    en: str
    kind: str = "vector"
    on: bool = False
    only: str | None = None
    needs_full_view: bool = False  # its rows are all private: leave it out of the public map
    swatch: str | None = None
    four_colours: bool = False


#: Overlays of the planner map, bottom to top. Hazard sites, their buffers and the protected
#: targets are on at first: they are what a planner placing a school or a plant looks at first.
PLANNER_OVERLAYS: tuple[Overlay, ...] = (
    Overlay("risk_surface", "risk_surface", "风险面(栅格)", "risk surface (raster)", "raster", swatch="surface"),
    Overlay("zones_grid", "risk_zones", "四色分区(网格)", "four-colour zones, grid", only="grid",
            needs_full_view=True, four_colours=True),
    Overlay("zones_town", "risk_zones", "四色分区(镇街)", "four-colour zones, towns", on=True, only="town",
            four_colours=True),
    Overlay("coverage_areas", "coverage_areas", "消防站5分钟覆盖", "fire-station 5-minute coverage", swatch="coverage"),
    Overlay("coverage_gaps", "coverage_gaps", "消防覆盖空白", "fire coverage gaps", swatch="gap"),
    Overlay("safety_buffers", "safety_buffers", "外部安全防护距离", "external safety buffers", on=True,
            swatch="buffer"),
    Overlay("risk_wall", "risk_wall", "地块四色(风险墙)", "plots, four colours (risk wall)", on=True,
            four_colours=True),
    Overlay("protected_targets", "protected_targets", "防护目标", "protected targets", on=True, swatch="target"),
    Overlay("hazard_sites", "hazard_sites", "危险化学品场所", "hazardous-chemical sites", on=True, swatch="hazard"),
    Overlay("separation_violations", "separation_violations", "安全距离不足", "separation violations",
            swatch="violation"),
    Overlay("rescue_stations", "rescue_stations", "消防救援站", "fire and rescue stations", on=True, swatch="station"),
    Overlay("shelters", "shelters", "应急避难场所", "emergency shelters", on=True, swatch="shelter"),
)
#: The offline basemap: the store's boundaries and roads, drawn under every overlay.
BASEMAP_LAYERS: tuple[Overlay, ...] = (
    Overlay("roads", "roads", "道路", "roads", on=True),
    Overlay("admin_areas", "admin_areas", "行政区划", "administrative boundaries", on=True),
)
#: Popup fields of the derived layers, in order: (column, 中文, English). Catalogue layers use
#: their schema's labels.
POPUP_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "risk_wall": (("plot_id", "地块编号", "plot"), ("enterprise", "企业", "enterprise"), ("town", "镇街", "town"),
                  ("colour_zh", "风险等级", "risk level"), ("score", "同色排序分", "score within colour"),
                  ("reasons", "定级依据", "reasons"), ("notice", "公示", "notice")),
    "risk_zones": (("zone_kind", "分区", "zone kind"), ("zone_id", "编号", "id"),
                   ("colour_zh", "风险等级", "risk level"), ("reasons", "定级依据", "reasons")),
    "safety_buffers": (("site_id", "危险源", "hazard site"), ("target_class", "防护目标类别", "target class"),
                       ("method", "方法", "method"), ("distance_m", "防护距离(m)", "distance (m)"),
                       ("reasons", "依据", "reasons")),
    "separation_violations": (("rule", "规则", "rule"), ("subject_layer", "对象图层", "subject layer"),
                              ("subject_id", "对象", "subject"), ("site_id", "危险源", "hazard site"),
                              ("required_m", "要求距离(m)", "required (m)"), ("actual_m", "实际距离(m)", "actual (m)"),
                              ("shortfall_m", "不足(m)", "shortfall (m)"), ("reason", "说明", "reason")),
    "coverage_areas": (("station_id", "消防站", "station"), ("minutes", "分钟", "minutes"),
                       ("method", "方法", "method"), ("town", "镇街", "town")),
    "coverage_gaps": (("code", "区划代码", "area code"), ("name", "名称", "name"),
                      ("gap_km2", "空白面积(km²)", "gap (km²)"), ("gap_share", "空白比例", "gap share")),
}
_HIDDEN = {"generated", "source", "parent"}


def popup_fields(layer: str, view: LayerView) -> list[dict]:
    """Fields a popup shows for ``layer`` under ``view``: ``{name, zh, en, choices?}``."""
    visible = None if view.fields is None else set(view.fields)
    out = []
    if layer in CATALOGUE:
        for field in CATALOGUE[layer].fields:
            if field.name in _HIDDEN or (visible is not None and field.name not in visible):
                continue
            entry = {"name": field.name, "zh": field.zh, "en": field.en, "type": field.type}
            if field.choices:
                entry["choices"] = {c.value: f"{c.zh} {c.en}" for c in field.choices}
            out.append(entry)
        return out
    for name, zh, en in POPUP_FIELDS.get(layer, ()):
        if visible is None or name in visible:
            out.append({"name": name, "zh": zh, "en": en})
    return out


def overlay_configs(overlays, source: LayerSource, redactor: Redactor, who: Principal, tiles: str) -> list[dict]:
    """The overlays present in the store that ``who`` may see, as the page's script wants them."""
    infos = source.infos()
    out = []
    for o in overlays:
        info = infos.get(o.layer)
        if info is None or not redactor.visible([o.layer], who):
            continue
        view = redactor.view(o.layer, who)
        if o.needs_full_view and view.fields is not None:
            continue
        suffix = "png" if o.kind == "raster" else "mvt"
        out.append({"id": o.id, "layer": o.layer, "zh": o.zh, "en": o.en, "kind": o.kind, "on": o.on,
                    "only": o.only, "swatch": o.swatch, "four_colours": o.four_colours,
                    "url": f"{tiles}/{o.layer}/{{z}}/{{x}}/{{y}}.{suffix}",
                    "fields": popup_fields(o.layer, view) if o.kind == "vector" else []})
    return out


def layer_bounds(source: LayerSource, redactor: Redactor, who: Principal,
                 names=("admin_areas", "risk_wall", "shelters")) -> list[float] | None:
    """``[west, south, east, north]`` of the first of ``names`` that has data the caller may see."""
    infos = source.infos()
    for name in names:
        if name in infos and infos[name].kind == "vector" and redactor.visible([name], who):
            bounds = source.bounds(redactor.view(name, who), infos[name])
            if bounds is not None:
                return [round(v, 7) for v in bounds]
    return None


def town_table(source: LayerSource, redactor: Redactor, who: Principal, levels=("town",)) -> pd.DataFrame:
    """Towns of ``admin_areas`` (code, name, parent, level), sorted by code; empty if there are none.

    ``levels=("town", "grid")`` lists the grids (网格) too.
    """
    infos = source.infos()
    if "admin_areas" not in infos:
        return pd.DataFrame(columns=["code", "name", "parent", "level"])
    frame = source.frame(redactor.view("admin_areas", who), infos["admin_areas"])
    towns = frame[frame["level"].astype(str).isin(levels)] if "level" in frame else frame.iloc[:0]
    columns = [c for c in ("code", "name", "parent", "level") if c in towns]
    return pd.DataFrame(towns[columns]).astype({"code": str}).sort_values("code").reset_index(drop=True)


def legend_html(palette: Palette, overlays: list[dict]) -> str:
    """The legend of the overlays a caller was given (:func:`overlay_configs`), in drawing order.

    The four colours of ``palette`` (level 1 first) come first when any overlay is drawn in them,
    then one row per overlay with a symbol, labelled as in the layer control.
    """
    rows = []
    if any(o.get("four_colours") for o in overlays):
        rows += [f'<li data-legend="level-{i}"><span class="rm-sw" style="background:{esc(c)}"></span>{esc(zh)} '
                 f'<span class="en">{esc(name)}</span></li>'
                 for i, (c, zh, name) in enumerate(zip(palette.colours, palette.labels_zh, palette.names), start=1)]
    rows += [f'<li data-legend="{esc(o["id"])}"><span class="rm-sw rm-sw-{esc(o["swatch"])}"></span>{esc(o["zh"])} '
             f'<span class="en">{esc(o["en"])}</span></li>' for o in overlays if o.get("swatch")]
    if not rows:
        return ""
    return ('<section class="rm-legend" id="rm-legend"><h2>图例 <span class="en">Legend</span></h2><ul>'
            + "".join(rows) + "</ul></section>")
