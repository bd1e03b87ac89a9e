"""A self-contained HTML siting report: verdict, reasons, figures and an inline SVG map.

:func:`render_siting_report` takes a :class:`zoning.siting.review.SitingVerdict` (or its ``to_dict()``)
and returns one HTML document with inline CSS and an inline SVG map drawn in a local azimuthal
equidistant projection centred on the proposal (metres, true distances from the centre). It loads
nothing from anywhere (no script, stylesheet, font, tile or image link), so it opens offline and
can be archived with the decision. Chinese first, English beside it.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

import numpy as np
import shapely
from pyproj import Transformer

from zoning.siting.report_qra import deciding_html, ir_colour, qra_html

__all__ = ["render_siting_report"]

_VERDICT_COLOURS = {"permitted": "#1a9641", "conditional": "#2b83ba", "advise_against": "#e66101",
                    "veto": "#d7191c"}
_VERDICT_EN = {"permitted": "permitted", "conditional": "conditional", "advise_against": "advise against",
               "veto": "veto"}
_W, _H, _PAD = 760.0, 560.0, 16.0
_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:0;color:#222;background:#f4f4f1;line-height:1.45}
main{max-width:1040px;margin:0 auto;padding:20px 24px 40px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.15em;border-bottom:2px solid #ddd;padding-bottom:2px;margin-top:1.6em}
.en{color:#666;font-weight:normal;font-size:.9em}
.badge{display:inline-block;padding:6px 16px;border-radius:4px;color:#fff;font-size:1.5em;font-weight:bold}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f0f0ec}td.num{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-size:.85em;white-space:nowrap}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;border:1px solid #555;vertical-align:middle}
.warn{background:#fff4d6;border-left:4px solid #f5a700;padding:6px 10px;margin:4px 0}
.map{border:1px solid #bbb;background:#fbfbf8;width:100%;height:auto}
.legend span{margin-right:14px;white-space:nowrap;font-size:.85em}
footer{margin-top:2em;color:#777;font-size:.8em}
"""
# Map layers, bottom to top: (layer, fill, fill opacity, stroke, stroke width, dash, zh, en).
_LAYERS = (
    ("risk_zone", None, 0.22, "none", 0, "", "四色分区网格", "risk zone grid"),
    ("ir_contour", "#ef6548", 0.28, "#b2182b", 1.0, "", "个人风险等值线", "individual-risk contour"),
    ("safety_buffer", "none", 0, "#fd8d3c", 1.5, "6 4", "外部安全防护距离", "external safety distance"),
    ("plant_buffer", "none", 0, "#7b3294", 1.5, "6 4", "拟建装置防护距离", "proposed plant's distance"),
    ("plot", None, 0.65, "#555", 0.6, "", "工业地块 (风险墙颜色)", "industrial plot (wall colour)"),
    ("target", "#6a51a3", 0.45, "#3f007d", 0.8, "", "防护目标", "protected target"),
    ("hazard_site", "#d7191c", 0.9, "#600", 1, "", "危险源", "hazard site"),
    ("fire_station", "#ffffff", 1, "#d7191c", 2, "", "消防站", "fire station"),
    ("shelter", "#1a9641", 0.8, "#0b4d21", 1, "", "应急避难场所", "shelter"),
    ("proposal", "#ffd400", 0.45, "#000", 3, "", "拟建项目", "proposal"),
)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _tag(verdict: str) -> str:
    return (f'<span class="tag" style="background:{_VERDICT_COLOURS.get(verdict, "#777")}">'
            f'{_e(verdict)}</span>')


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    if not rows:
        return '<p class="en">无 none</p>'
    th = "".join(f"<th>{h}</th>" for h in head)
    num = ' class="num"'
    body = "".join("<tr>" + "".join(f"<td{num if i in numeric else ''}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _projector(lon: float, lat: float):
    """Local azimuthal equidistant projection (metres) centred on the proposal, GRS80 (CGCS2000)."""
    t = Transformer.from_crs("EPSG:4490", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m",
                             always_xy=True)
    return lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def _svg_path(geom, tx) -> str:
    """SVG path data of polygon rings and lines (``tx`` maps metric xy to SVG xy)."""
    parts = []
    for g in shapely.get_parts(geom):
        rings = ([g.exterior, *g.interiors] if g.geom_type == "Polygon" else [g])
        for ring in rings:
            xy = tx(np.asarray(ring.coords)[:, :2])
            pts = " L".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(f"M{pts}" + ("Z" if g.geom_type == "Polygon" else ""))
    return " ".join(parts)


def _scale_bar(span_m: float) -> float:
    target = span_m / 5
    return max(s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if s <= max(target, 10))


def _map(d: dict) -> str:
    """The inline SVG map of the proposal, the buffers concerning it and the features nearby."""
    features = [(f["properties"], shapely.geometry.shape(f["geometry"])) for f in d["map"]["features"]]
    proposal = shapely.geometry.shape(d["geometry"])
    c = proposal.centroid
    proj = _projector(c.x, c.y)
    metric = [(p, shapely.transform(g, proj)) for p, g in features]
    centre = shapely.transform(proposal, proj)
    focus = [g for p, g in metric if p.get("layer") not in ("risk_zone", "ir_contour")]
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(focus + [centre.buffer(600)], dtype=object))
    half = 4000.0  # never wider than 8 km: far stations or shelters are in the tables
    minx, miny, maxx, maxy = max(minx, -half), max(miny, -half), min(maxx, half), min(maxy, half)
    s = min((_W - 2 * _PAD) / (maxx - minx), (_H - 2 * _PAD) / (maxy - miny))
    ox = _PAD + ((_W - 2 * _PAD) - (maxx - minx) * s) / 2
    oy = _PAD + ((_H - 2 * _PAD) - (maxy - miny) * s) / 2

    def tx(xy):
        return np.column_stack([ox + (xy[:, 0] - minx) * s, _H - (oy + (xy[:, 1] - miny) * s)])

    out = [f'<svg class="map" viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" '
           f'aria-label="选址示意图 siting map">']
    # contours from the lowest level up, so the higher (smaller) ones stay visible on top
    metric.sort(key=lambda pg: pg[0].get("level") or 0.0)
    for layer, fill, opacity, stroke, width, dash, zh, en in _LAYERS:
        for props, g in metric:
            if props.get("layer") != layer:
                continue
            colour = ir_colour(props["level"]) if layer == "ir_contour" else props.get("colour") or fill or "#999"
            line = "#d7191c" if layer == "safety_buffer" and props.get("own_class") else stroke
            title = f"<title>{_e(zh)} {_e(props.get('label'))}</title>"
            style = (f'fill="{colour if fill != "none" else "none"}" fill-opacity="{opacity}" stroke="{line}" '
                     f'stroke-width="{width}"' + (f' stroke-dasharray="{dash}"' if dash else ""))
            if g.geom_type in ("Point", "MultiPoint"):
                for pt in shapely.get_parts(g):
                    x, y = tx(np.array([[pt.x, pt.y]]))[0]
                    if layer == "hazard_site":
                        out.append(f'<path d="M{x:.1f},{y - 8:.1f} L{x + 7:.1f},{y + 5:.1f} L{x - 7:.1f},{y + 5:.1f}Z" '
                                   f'{style}>{title}</path>')
                    elif layer == "fire_station":
                        out.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" {style}>{title}</rect>')
                    else:
                        r = 9 if layer == "proposal" else 5
                        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {style}>{title}</circle>')
            else:
                out.append(f'<path d="{_svg_path(g, tx)}" fill-rule="evenodd" {style}>{title}</path>')
    bar = _scale_bar(maxx - minx)
    x0, y0 = 20.0, _H - 22.0
    out.append(f'<rect x="10" y="{_H - 44}" width="{bar * s + 20:.1f}" height="34" fill="#fff" fill-opacity=".8"/>')
    out.append(f'<path d="M{x0},{y0} h{bar * s:.1f}" stroke="#000" stroke-width="3"/>')
    out.append(f'<text x="{x0}" y="{y0 - 6}" font-size="12">{bar:g} m</text>')
    out.append(f'<text x="{_W - 30}" y="34" font-size="16" font-weight="bold" text-anchor="middle">N</text>'
               f'<path d="M{_W - 30},40 l-6,14 h12 z" fill="#000"/>')
    out.append("</svg>")
    legend = "".join(f'<span><i class="sw" style="background:{fill if fill and fill != "none" else "#fff"};'
                     f'border-color:{stroke if stroke != "none" else "#999"}"></i>{_e(zh)} '
                     f'<span class="en">{_e(en)}</span></span>' for _, fill, _, stroke, _, _, zh, en in _LAYERS)
    note = ("局部等距方位投影, 以拟建项目为中心 (CGCS2000 椭球); 红色虚线为本类别防护距离, 橙色虚线为最大防护距离 "
            '<span class="en">local azimuthal equidistant projection centred on the proposal (CGCS2000 '
            "ellipsoid); red dashes: distance for the proposal's own class, orange: largest distance</span>")
    return "".join(out) + f'<p class="legend">{legend}</p><p class="en">{note}</p>'


def render_siting_report(verdict) -> str:
    """The HTML report of a siting verdict (a SitingVerdict or its ``to_dict()``), self-contained.

    >>> html_text = render_siting_report({"verdict": "permitted", "verdict_zh": "允许", "kind": "office",
    ...     "kind_zh": "办公场所", "kind_en": "office", "population": 50, "population_assumed": False,
    ...     "gb36894_class": "general_2", "gb36894_class_zh": "一般防护目标二类", "sensitivity": 1,
    ...     "zone": "none", "zone_zh": "区外", "zone_colour": None, "town_colour": None, "reasons": [],
    ...     "buffers": [], "nearby": {"plots": [], "sites": [], "targets": []}, "fire": None,
    ...     "shelter": None, "plant": None, "warnings": [], "ruleset": "default@1",
    ...     "geometry": {"type": "Point", "coordinates": [119.9, 31.8]},
    ...     "map": {"type": "FeatureCollection", "features": []}})
    >>> "允许" in html_text and "http" not in html_text
    True
    """
    d = verdict.to_dict() if hasattr(verdict, "to_dict") else verdict
    v = d["verdict"]
    colour = d.get("zone_colour") or {}
    facts = [
        ("项目类型 kind", f"{_e(d['kind_zh'])} <span class=\"en\">{_e(d['kind_en'])}</span>"),
        ("人数 population", f"{d['population']:,}" + (" <span class=\"en\">(默认值 assumed)</span>"
                                                      if d["population_assumed"] else "")),
        ("GB 36894 类别 class", f"{_e(d['gb36894_class_zh'])} <span class=\"en\">{_e(d['gb36894_class'])}</span>"),
        ("开发敏感度 sensitivity", f"{d['sensitivity']} 级 <span class=\"en\">level {d['sensitivity']}</span>"),
        ("咨询分区 zone", f"{_e(d['zone_zh'])} <span class=\"en\">{_e(d['zone'])}</span>"),
        ("四色分区 zone colour", (f'<i class="sw" style="background:{_e(colour.get("colour"))}"></i>'
                                  f'{_e(colour.get("colour_zh"))} <span class="en">{_e(colour.get("colour_name"))} '
                                  f'({_e(colour.get("zone_kind"))} {_e(colour.get("zone_id"))})</span>')
         if colour else "–"),
        ("坐标 location", _e(", ".join(f"{x:.5f}" for x in shapely.geometry.shape(d["geometry"]).centroid.coords[0]))
         + ' <span class="en">lon, lat (EPSG:4490)</span>'),
    ]
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>选址审查报告 Siting review — {_e(d['kind_zh'])} — {_e(d['verdict_zh'])} {_e(_VERDICT_EN[v])}</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        '<h1>选址审查报告 <span class="en">Siting review report</span></h1>',
        f'<p><span class="badge" style="background:{_VERDICT_COLOURS[v]}">{_e(d["verdict_zh"])} '
        f'<span style="font-weight:normal">{_e(_VERDICT_EN[v])}</span></span></p>',
        _table(["项目 item", "值 value"], [[a, b] for a, b in facts]),
    ]
    if d["warnings"]:
        parts.append('<h2>提示 <span class="en">Warnings</span></h2>')
        parts += [f'<div class="warn">{_e(w)}</div>' for w in d["warnings"]]
    parts.append('<h2>理由 <span class="en">Reasons (each sets the least verdict it allows)</span></h2>')
    parts.append(_table(["规则 rule", "结论 verdict", "说明 reason"], [
        [_e(r["rule"]), _tag(r["verdict"]), f"{_e(r['zh'])}<br><span class=\"en\">{_e(r['en'])}</span>"]
        for r in d["reasons"]]))
    parts.append('<h2>决定结论的距离 <span class="en">The distance that decided the verdict</span></h2>')
    parts.append(deciding_html(d.get("deciding")))
    parts.append('<h2>地图 <span class="en">Map</span></h2>')
    parts.append(_map(d))
    parts.append(qra_html(d.get("qra")))
    parts.append('<h2>所处外部安全防护距离 <span class="en">External safety distances it falls in</span></h2>')
    parts.append(_table(["危险源 site", "名称 name", "类别 class", "方法 method", "要求 required m", "实际 actual m",
                         "不足 shortfall m"],
                        [[_e(b["site_id"]), _e(b.get("name")), _e(b["target_class"]) + (" ★" if b["own_class"] else ""),
                          _e(b.get("method")), _num(b["required_m"], 1), _num(b["actual_m"], 1),
                          _num(b["shortfall_m"], 1)] for b in d["buffers"]], {4, 5, 6}))
    near = d["nearby"]
    parts.append('<h2>周边 <span class="en">Nearby</span></h2><h3>工业地块 <span class="en">plots</span></h3>')
    parts.append(_table(["地块 plot", "企业 enterprise", "颜色 colour", "距离 m"],
                        [[_e(p["plot_id"]), _e(p.get("enterprise")),
                          f'<i class="sw" style="background:{_e(p.get("colour"))}"></i>{_e(p.get("colour_zh"))}',
                          _num(p["distance_m"])] for p in near["plots"][:20]], {3}))
    parts.append('<h3>危险源 <span class="en">hazard sites</span></h3>')
    parts.append(_table(["危险源 site", "名称 name", "重大危险源等级 grade", "距离 m"],
                        [[_e(s["site_id"]), _e(s.get("name")), _e(s.get("major_hazard_grade")), _num(s["distance_m"])]
                         for s in near["sites"][:20]], {3}))
    parts.append('<h3>防护目标 <span class="en">protected targets</span></h3>')
    parts.append(_table(["目标 target", "名称 name", "类型 kind", "类别 class", "人数", "距离 m"],
                        [[_e(t["target_id"]), _e(t.get("name")), _e(t.get("kind")), _e(t.get("gb36894_class")),
                          _num(t.get("population")), _num(t["distance_m"])] for t in near["targets"][:20]], {4, 5}))
    parts.append('<h2>消防与避难 <span class="en">Fire cover and shelter</span></h2>')
    f, s = d.get("fire"), d.get("shelter")
    parts.append(_table(["项目 item", "值 value"], [
        ["最近消防站 nearest fire station", f"{_e(f['station_id'])} {_e(f.get('name'))}: 响应 {f['response_min']:.1f} min "
         f"(限值 {f['budget_min']:g} min, {_e(f['method'])}, 直线 {_num(f['distance_m'])} m)" if f else "–"],
        ["最近避难场所 nearest shelter", f"{_e(s['shelter_id'])} ({_e(s['class'])}): {_num(s['distance_m'])} m "
         f"(服务半径 {_num(s['service_radius_m'])} m, {_e(s['method'])})" if s else "–"]]))
    p = d.get("plant")
    if p:
        parts.append('<h2>拟建危险化学品装置 <span class="en">Proposed hazardous plant</span></h2>')
        parts.append(f"<p>{'一二三四'[p['grade'] - 1] + '级重大危险源' if p['grade'] else '不构成重大危险源'} "
                     f"<span class=\"en\">Σq/Q = {p['ratio_sum']:.3g}, α = {p['alpha']:g}, R = {p['R']:.3g}, "
                     f"{p['people_500m']} people within 500 m (GB 18218-2018)</span></p>")
        parts.append(_table(["类别 class", "方法 method", "距离 distance m"],
                            [[_e(x["target_class"]), _e(x["method"]), _num(x["distance_m"], 1)] for x in p["distances"]],
                            {2}))
        parts.append('<h3>将被覆盖 <span class="en">what its distances would swallow</span></h3>')
        parts.append(_table(["规则 rule", "对象 subject", "名称 name", "要求 m", "实际 m"],
                            [[_e(x["rule"]), _e(x["subject_id"]), _e(x.get("name")), _num(x["required_m"], 1),
                              _num(x["actual_m"], 1)] for x in p["swallowed"]], {3, 4}))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<footer>规则集 rule set {_e(d['ruleset'])} · 生成 generated {when} · riskmap. 本报告为规划咨询意见, "
                 "以有关部门审查结论为准 <span class=\"en\">advice for planning consultation; the competent "
                 "authority decides</span></footer></main></body></html>")
    return "\n".join(parts)
