"""Pieces the page routers share: the 404 of a page resource, JSON for a page, escaping.

Pages are plain HTML documents built by folium (the map) and string assembly (panels, tables),
every value escaped with :func:`esc`. Each page hands its JavaScript one JSON document (a
``<script type="application/json" id="riskmap-config">`` block, :func:`config_block`) instead of
values spliced into code.
"""

from __future__ import annotations

import json
from html import escape

import numpy as np
import pandas as pd

from layers.errors import LayerNotFound

__all__ = ["PageNotFound", "esc", "config_block", "plain"]


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
