"""Pieces the page routers share: the 404 of a page resource, JSON for a page, escaping, reasons.

Pages are plain HTML documents built by folium (the map) and string assembly (panels, tables),
every value escaped with :func:`esc`. Each page hands its JavaScript one JSON document (a
``<script type="application/json" id="riskmap-config">`` block, :func:`config_block`) instead of
values spliced into code.
"""

from __future__ import annotations

import json
import re
from html import escape

import numpy as np
import pandas as pd

from layers.errors import LayerNotFound

__all__ = ["PageNotFound", "esc", "config_block", "plain", "split_reasons", "reason_parts", "reasons_html"]

_CJK = re.compile(r"[\u3400-\u9fff]")
#: "English (中文)": the Chinese in the last parentheses, which hold no parentheses themselves.
_TRAILING_ZH = re.compile(r"^(?P<en>.*\S)\s*\((?P<zh>[^()]*)\)\s*$", re.S)
_DEFAULT_LEVEL = re.compile(r"^no rule fired \(default level (\d)\)$")


class PageNotFound(LayerNotFound):
    """A town, a siting report or a static file that does not exist.

    A subclass of :class:`~layers.errors.LayerNotFound` only to share its HTTP status (404) in
    :data:`server.errors.STATUS`; the message names what was asked for and what exists.
    """


def esc(value) -> str:
    """HTML-escaped text of ``value`` ("" for None or NaN).

    >>> esc("<b>红</b>"), esc(None), esc(float("nan"))
    ('&lt;b&gt;红&lt;/b&gt;', '', '')
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return escape(str(value))


def plain(value):
    """``value`` as a JSON-able Python scalar (numpy scalars unwrapped; NaN, NaT → None).

    >>> plain(np.int64(3)), plain(np.float64("nan")), plain(pd.Timestamp("2026-03-01"))
    (3, None, '2026-03-01')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def config_block(config: dict, element_id: str = "riskmap-config") -> str:
    """A ``<script type="application/json">`` element holding ``config`` (safe inside HTML).

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no value can close the element.

    >>> config_block({"a": "</script>"})
    '<script type="application/json" id="riskmap-config">{"a": "\\\\u003c/script\\\\u003e"}</script>'
    """
    text = json.dumps(config, ensure_ascii=False, default=plain)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def split_reasons(text: str) -> list[str]:
    """The reasons of a ``"; "``-joined reasons text; a ``;`` inside parentheses does not split.

    >>> split_reasons("a (x; y); b (乙)")
    ['a (x; y)', 'b (乙)']
    """
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c in "(（") - (c in ")）")
        if c == ";" and depth <= 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [r.strip() for r in out if r.strip()]


def reason_parts(reason: str) -> tuple[str, str]:
    """``(中文, English)`` of one reason as the engine writes it, ``"English (中文)"``.

    Pages show the Chinese first and the English after it, smaller. A reason without Chinese in
    its last parentheses (a clause reference, say) is returned whole as ``("", reason)``; the
    engine's one English-only wall reason, the default level, is given its Chinese here.

    >>> reason_parts("14 rented buildings ≥ 10 (出租厂房 14 栋)")
    ('出租厂房 14 栋', '14 rented buildings ≥ 10')
    >>> reason_parts("R = 5 → 四级 (grade 4; GB 18218-2018 §4.2)")
    ('', 'R = 5 → 四级 (grade 4; GB 18218-2018 §4.2)')
    >>> reason_parts("no rule fired (default level 4)")
    ('未触发任何定级规则（默认等级 4）', 'no rule fired (default level 4)')
    """
    reason = reason.strip()
    default = _DEFAULT_LEVEL.match(reason)
    if default:
        return f"未触发任何定级规则（默认等级 {default.group(1)}）", reason
    found = _TRAILING_ZH.match(reason)
    if found and _CJK.search(found.group("zh")):
        return found.group("zh").strip(), found.group("en")
    return "", reason


def reasons_html(text) -> str:
    """A list of the ``;``-separated reasons of ``text``, each Chinese first, English below (escaped).

    >>> reasons_html("1 open major hidden danger (重大隐患 1 项未整改)")
    '<ul class="rm-reason-list"><li><span class="zh">重大隐患 1 项未整改</span> <span class="en">1 open major hidden danger</span></li></ul>'
    >>> reasons_html(None)
    ''
    """
    if text is None or (isinstance(text, float) and text != text) or not str(text).strip():
        return ""
    items = []
    for reason in split_reasons(str(text)):
        zh, en = reason_parts(reason)
        items.append(f'<li><span class="zh">{esc(zh)}</span> <span class="en">{esc(en)}</span></li>' if zh
                     else f"<li>{esc(en)}</li>")
    return '<ul class="rm-reason-list">' + "".join(items) + "</ul>"
