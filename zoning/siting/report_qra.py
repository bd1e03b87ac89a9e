"""The QRA parts of the siting report: the distance that decided, the F-N plot, the QRA tables.

Used by :func:`zoning.siting.report.render_siting_report`; everything is inline HTML and SVG (no
link, no script), like the rest of the report.

The F-N plot is drawn on log–log axes, N from 1 to 10⁴ deaths and F from 10⁻⁹ to 10⁻² per year,
with the GB 36894-2018 regions shaded (unacceptable above the upper line, ALARP between, acceptable
below the lower line; [qra.criteria.societal_risk]) and each site's curve as it stands (solid) and
with the proposal's people added (dashed).

>>> svg = fn_svg([{"site_id": "H1", "fn": {"n": [2.0, 30.0], "f": [1e-5, 1e-6], "upper": 1e-3, "lower": 1e-5,
...     "verdict": "alarp"}, "fn_with": {"n": [2.0, 40.0], "f": [1e-5, 1e-6], "upper": 1e-3, "lower": 1e-5,
...     "verdict": "alarp"}}])
>>> svg.count('class="fn-curve"'), svg.count('class="fn-curve-with"'), 'class="fn-line-upper"' in svg
(1, 1, True)
"""

from __future__ import annotations

import html
import math

__all__ = ["fn_svg", "deciding_html", "qra_html", "ir_colour"]

_W, _H, _L, _R, _T, _B = 560.0, 360.0, 64.0, 16.0, 14.0, 46.0
_NLOG, _FLOG = (0.0, 4.0), (-9.0, -2.0)
_CURVE_COLOURS = ("#1f4e9c", "#6a3d9a", "#33a02c", "#b15928")
_IR_COLOURS = ((1e-5, "#b2182b"), (3e-6, "#ef6548"), (1e-6, "#fdae61"), (0.0, "#fee08b"))


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def ir_colour(level: float) -> str:
    """Fill colour of an individual-risk contour level (darker red for higher risk)."""
    return next(c for lo, c in _IR_COLOURS if level >= lo)


def _px(n: float, f: float) -> tuple[float, float]:
    ln = min(max(math.log10(max(n, 1e-12)), _NLOG[0]), _NLOG[1])
    lf = min(max(math.log10(max(f, 1e-30)), _FLOG[0]), _FLOG[1])
    x = _L + (ln - _NLOG[0]) / (_NLOG[1] - _NLOG[0]) * (_W - _L - _R)
    y = _T + (_FLOG[1] - lf) / (_FLOG[1] - _FLOG[0]) * (_H - _T - _B)
    return x, y


def _line(c: float) -> str:
    pts = [_px(n, c / n) for n in (1.0, 10.0 ** _NLOG[1])]
    return " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _region(c_low: float | None, c_high: float | None) -> str:
    """Polygon between the lines F = c_low/N and F = c_high/N (None: the plot's edge)."""
    ns = (1.0, 10.0 ** _NLOG[1])
    top = [_px(n, c_high / n) if c_high else _px(n, 10.0 ** _FLOG[1]) for n in ns]
    bottom = [_px(n, c_low / n) if c_low else _px(n, 10.0 ** _FLOG[0]) for n in ns[::-1]]
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in top + bottom) + "Z"


def _steps(n, f) -> str:
    """The F-N step curve: F(N) = f_i for n_(i−1) < N ≤ n_i, from N = 1, dropping after the last n."""
    pts, prev = [], 1.0
    for ni, fi in zip(n, f):
        pts += [_px(prev, fi), _px(ni, fi)]
        prev = ni
    if n:
        pts.append(_px(n[-1], 10.0 ** _FLOG[0]))
    return " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def fn_svg(sites: list[dict]) -> str:
    """Inline SVG of the F-N curves of ``sites`` (each with ``fn`` and ``fn_with`` dicts)."""
    first = next((s["fn_with"] for s in sites if s.get("fn_with")), None)
    if first is None:
        return ""
    upper, lower = first["upper"], first["lower"]
    out = [f'<svg class="fn-plot" viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" '
           f'aria-label="社会风险 F-N 曲线 societal risk F-N curve" style="max-width:{_W:.0f}px;width:100%">',
           f'<path class="fn-region-unacceptable" d="{_region(upper, None)}" fill="#f4a6a6" fill-opacity=".5"/>',
           f'<path class="fn-region-alarp" d="{_region(lower, upper)}" fill="#fde9a9" fill-opacity=".6"/>',
           f'<path class="fn-region-acceptable" d="{_region(None, lower)}" fill="#c9e7c1" fill-opacity=".6"/>']
    for k in range(int(_NLOG[0]), int(_NLOG[1]) + 1):
        x, y0 = _px(10.0 ** k, 10.0 ** _FLOG[0])
        out.append(f'<path d="M{x:.1f},{_T} V{y0:.1f}" stroke="#bbb" stroke-width=".5"/>'
                   f'<text x="{x:.1f}" y="{y0 + 14:.1f}" font-size="11" text-anchor="middle">10<tspan dy="-5" '
                   f'font-size="8">{k}</tspan></text>')
    for k in range(int(_FLOG[0]), int(_FLOG[1]) + 1):
        x0, y = _px(1.0, 10.0 ** k)
        out.append(f'<path d="M{x0:.1f},{y:.1f} H{_W - _R:.1f}" stroke="#bbb" stroke-width=".5"/>'
                   f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" font-size="11" text-anchor="end">10<tspan dy="-5" '
                   f'font-size="8">{k}</tspan></text>')
    out.append(f'<path class="fn-line-upper" d="M{_line(upper)}" stroke="#d7191c" stroke-width="2" fill="none">'
               f'<title>F = {upper:g}/N</title></path>')
    out.append(f'<path class="fn-line-lower" d="M{_line(lower)}" stroke="#1a9641" stroke-width="2" fill="none">'
               f'<title>F = {lower:g}/N</title></path>')
    for i, s in enumerate(sites):
        colour = _CURVE_COLOURS[i % len(_CURVE_COLOURS)]
        for key, cls, dash in (("fn", "fn-curve", ""), ("fn_with", "fn-curve-with", ' stroke-dasharray="6 4"')):
            c = s.get(key)
            if not c or not c["n"]:
                continue
            out.append(f'<path class="{cls}" d="M{_steps(c["n"], c["f"])}" stroke="{colour}" stroke-width="2.2" '
                       f'fill="none"{dash}><title>{_e(s["site_id"])} {"+ proposal " if key == "fn_with" else ""}'
                       f'({_e(c["verdict"])})</title></path>')
    out.append(f'<text x="{(_L + _W - _R) / 2:.1f}" y="{_H - 8:.1f}" font-size="12" text-anchor="middle">'
               'N 死亡人数 deaths</text>')
    out.append(f'<text x="14" y="{(_T + _H - _B) / 2:.1f}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 14 {(_T + _H - _B) / 2:.1f})">F 频率 per year (≥ N)</text>')
    out.append("</svg>")
    return "".join(out)


def deciding_html(d: dict | None) -> str:
    """The paragraph naming the distance that decided the verdict (or saying there is none)."""
    if not d:
        return ('<p class="deciding">结论不取决于外部安全防护距离 <span class="en">the verdict does not rest on an '
                "external safety distance</span></p>")
    method = {"qra": "定量风险评价 QRA", "table": "规范表列距离 table distance, no QRA",
              "qra_provisional": "暂定距离 provisional table distance, no QRA",
              "qra_declared": "企业申报评价距离 declared assessment", "consequence": "事故后果法 consequence"}
    return (f'<p class="deciding"><b>危险源 {_e(d["site_id"])} · {_e(d["target_class"])}: 要求 '
            f'<span class="distance">{d["required_m"]:,.0f} m</span>, 实际 {d["actual_m"]:,.0f} m, 不足 '
            f'{d["shortfall_m"]:,.0f} m</b> <span class="en">({_e(method.get(d.get("method"), d.get("method")))}; '
            f'rule {_e(d["rule"])})</span></p>'
            + (f'<p class="en basis">{_e(d.get("basis"))}</p>' if d.get("basis") else ""))


def qra_html(q: dict | None) -> str:
    """The QRA section: IR at the proposal, per site distances, F-N plot, threat zones, validity notes."""
    if not q:
        return ""
    level = q["criterion"]
    parts = ['<h2>定量风险评价 <span class="en">Quantitative risk assessment (GB/T 37243-2019 §6, GB 36894-2018)'
             "</span></h2>",
             f'<p>拟建项目处个人风险 <b class="ir">{q["ir_total"]:.2e}/a</b>, 本类别 ({_e(q["target_class"])}, '
             f'{_e(q["status"])}) 风险基准 {level:.0e}/a <span class="en">individual risk at the proposal against the '
             f"criterion of its class</span></p>",
             fn_svg(q["sites"]),
             '<p class="en">实线: 现状 F-N 曲线; 虚线: 加入拟建项目人员后 <span class="en">solid: as it stands; '
             "dashed: with the proposal's people</span></p>"]
    for s in q["sites"]:
        rows = "".join(f'<tr><td>{_e(c)}</td><td class="num">{s["levels"][c]:.0e}</td>'
                       f'<td class="num">{s["distances"][c]:,.0f}</td></tr>' for c in s["distances"])
        zones = "".join(f'<tr><td>{_e(z["hazard"])}</td><td>{_e(z["threshold"])}</td>'
                        f'<td class="num">{"≥ " if z.get("at_least") else ""}{z["distance_m"]:,.0f}</td></tr>'
                        for z in s["threat_zones"])
        fn = s["fn_with"]
        parts.append(f'<h3>危险源 {_e(s["site_id"])} {_e(s.get("name"))} <span class="en">IR {s["ir_here"]:.2e}/a '
                     f'here; F-N with the proposal: {_e(fn["verdict"])}</span></h3>')
        parts.append(f"<table><tr><th>类别 class</th><th>风险基准 criterion /a</th><th>距离 distance m</th></tr>{rows}"
                     "</table>")
        if zones:
            parts.append("<table><tr><th>危害 hazard</th><th>阈值 threshold</th><th>影响距离 m</th></tr>"
                         f"{zones}</table>")
        parts.append('<ul class="validity">' + "".join(f"<li>{_e(n)}</li>" for n in s["notes"]) + "</ul>")
    return "".join(parts)
