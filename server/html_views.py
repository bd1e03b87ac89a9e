"""Plain HTML renderings of the OGC API resources (``?f=html`` or ``Accept: text/html``).

No template engine, no script, no external stylesheet: a page is a heading, a list of links and
tables, every value escaped. The map pages live elsewhere (``server/pages/``); these pages are
for browsing the API itself.

>>> "&lt;b&gt;" in page("t", [table([{"k": "<b>"}])])
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from fastapi import Request

from geo.errors import InputError

__all__ = ["wants_html", "page", "links_list", "table", "definition_list"]

_STYLE = """body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;
max-width:70em}table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;
padding:.2em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3}nav a{margin-right:1em}"""


def wants_html(request: Request, f: str | None) -> bool:
    """Whether to answer in HTML: ``f=html``, or no ``f`` and an Accept header preferring HTML."""
    if f is not None:
        if f not in ("json", "html"):
            raise InputError(f"f must be 'json' or 'html', got {f!r}")
        return f == "html"
    accept = request.headers.get("accept", "")
    html_at = accept.find("text/html")
    if html_at < 0:
        return False
    json_at = [i for i in (accept.find("json"),) if i >= 0]
    return not json_at or html_at < json_at[0]


def page(title: str, sections: Iterable[str], nav: Iterable[Mapping] = ()) -> str:
    """A whole HTML page (UTF-8, Chinese first) with a title, a navigation bar and sections."""
    navigation = " ".join(f'<a href="{escape(link["href"])}">{escape(link["title"])}</a>'
                          for link in nav)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<nav>{navigation}</nav><h1>{escape(title)}</h1>{''.join(sections)}</body></html>"
    )


def links_list(links: Iterable[Mapping]) -> str:
    """A list of links showing each one's title (or rel) and type."""
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>'
        f' <small>{escape(link.get("rel", ""))} {escape(link.get("type", ""))}</small></li>'
        for link in links)
    return f"<ul>{items}</ul>"


def _cell(value) -> str:
    if isinstance(value, dict) and "href" in value:
        return f'<a href="{escape(value["href"])}">{escape(str(value.get("text", value["href"])))}</a>'
    return escape("" if value is None else str(value))


def table(rows: list[Mapping], columns: list[str] | None = None) -> str:
    """A table of ``rows`` (dicts); a value ``{"href", "text"}`` becomes a link."""
    if not rows:
        return "<p>(none)</p>"
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definition_list(items: Mapping) -> str:
    """Name/value pairs."""
    body = "".join(f"<dt>{escape(str(k))}</dt><dd>{_cell(v)}</dd>" for k, v in items.items())
    return f"<dl>{body}</dl>"
