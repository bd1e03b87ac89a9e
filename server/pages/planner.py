"""``GET /map``: the planner map.

Who sees what
-------------
The page is open to everyone and shows what the caller may see (:mod:`server.redaction`):

* **no credential** - the public view: boundaries, roads, shelters, stations, the town-level
  zone colours and the plots disclosed as 较大 and above (colour and a plain notice), with a
  sign-in link; no siting panel. The layer control and the legend list only these layers.
* **town editor** - every layer (the same full view the API gives any role above public), no
  siting panel (siting review is the planning bureau's).
* **planner, admin** - every layer and the siting panel: place a point on the map or upload a
  GeoJSON, choose the kind of project, and ``POST /api/siting`` draws the verdict, its reasons
  and a link to the HTML report on the map. The chemical-inventory box shows only for the kinds
  of project that store chemicals (``inventory = true`` in the rule set's ``[siting.kinds]``).

Hazardous-chemical sites, their external safety buffers (``safety_buffers``) and the protected
targets are overlays of their own, on at first, with popups of the fields the caller may see
(all three are private: a public caller's page names none of them).

The layers come as vector tiles from ``/web/tiles/...`` (the tiles router with the caller taken
from the session cookie, see :mod:`server.pages`), the risk surface as PNG tiles; the page
itself holds no layer data, so it stays small whatever the size of the store.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from server.auth import Principal
from server.pages.assets import basemap_config, offline_map, render_map_page
from server.pages.common import esc
from server.pages.layers import (BASEMAP_LAYERS, PLANNER_OVERLAYS, layer_bounds, legend_html, overlay_configs,
                                 town_table)
from server.pages.session import SITING_ROLE, login_link, role_label
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from zoning.rules import RuleSet
from zoning.siting.rules import parse_siting_rules

__all__ = ["create_planner_router", "siting_kinds"]

WEB_TILES = "/web/tiles"


def siting_kinds(ruleset: RuleSet) -> list[dict]:
    """The kinds of project of the rule set's ``[siting.kinds]``, for the siting panel."""
    return [{"kind": name, "zh": k.zh, "en": k.en, "inventory": bool(k.inventory),
             "default_population": k.default_population}
            for name, k in parse_siting_rules(ruleset).kinds.items()]


def _panel(who: Principal, ruleset: RuleSet, towns, base: str, overlays: list[dict]) -> str:
    if who.is_public:
        account = (f'<a class="rm-button" href="{esc(base + login_link("/map"))}">'
                   '登录 <span class="en">Sign in</span></a>'
                   '<p class="rm-hint">未登录：仅显示公开图层。<span class="en">Not signed in: public layers only.</span></p>')
    else:
        account = (f'<span class="rm-who">{esc(role_label(who))}</span>'
                   f'<form method="post" action="{esc(base)}/logout?next=/map" class="rm-inline">'
                   '<button type="submit">退出 <span class="en">Sign out</span></button></form>')
    # a town's (or grid's) editor opens its own walls only; others the towns' walls (grids are linked from them)
    towns = towns[towns["code"].isin(who.towns)] if who.scoped else towns[towns["level"] == "town"]
    options = "".join(f'<option value="{esc(t.code)}" data-path="/{esc(t.level)}s/{esc(t.code)}">{esc(t.code)} '
                      f'{esc(t.name)}</option>' for t in towns.itertuples())
    walls = ("" if who.is_public or not len(towns) else
             '<section><h2>镇街风险墙 <span class="en">Town risk walls</span></h2>'
             f'<form class="rm-row" id="rm-wall-form"><select id="rm-wall-town">{options}</select>'
             '<button type="submit">打开 <span class="en">Open</span></button></form></section>')
    siting = ""
    if who.at_least(SITING_ROLE):
        kinds = "".join(f'<option value="{esc(k["kind"])}" data-inventory="{str(k["inventory"]).lower()}">'
                        f'{esc(k["zh"])} {esc(k["en"])}</option>' for k in siting_kinds(ruleset))
        siting = f"""<section id="rm-siting"><h2>选址审查 <span class="en">Siting review</span></h2>
<label>项目类型 <span class="en">kind</span><select id="rm-kind">{kinds}</select></label>
<label>人数 <span class="en">persons</span><input type="number" id="rm-population" min="0" step="1"
 placeholder="默认 default"></label>
<label id="rm-inventory-row" hidden>危险化学品清单 <span class="en">inventory (JSON)</span>
<textarea id="rm-inventory" rows="3">[{{"name": "ammonia", "cas": "7664-41-7", "quantity_t": 20}}]</textarea></label>
<div class="rm-row"><button type="button" id="rm-place">在地图上点选 <span class="en">Click the map</span></button>
<label class="rm-file">上传 GeoJSON <span class="en">upload</span><input type="file" id="rm-file"
 accept=".geojson,.json,application/geo+json,application/json"></label></div>
<p class="rm-hint" id="rm-proposal">尚未选址 <span class="en">No site yet</span></p>
<button type="button" id="rm-review" class="rm-primary" disabled>审查 <span class="en">Review</span></button>
<div id="rm-verdict" aria-live="polite"></div></section>"""
    hint = ('<p class="rm-hint">点击地块查看公示信息。<span class="en">Click a plot for its public notice.</span></p>'
            if who.is_public else
            '<p class="rm-hint">点击地块、危险源或防护目标查看详情和定级依据。<span class="en">Click a plot, a hazard '
            'site or a protected target for its details and the reasons behind its colour.</span></p>')
    return f"""<aside class="rm-panel" id="rm-panel">
<header><p class="rm-hint"><a href="{esc(base)}/">首页 <span class="en">Home</span></a></p>
<h1>风险地图 <span class="en">Risk map</span></h1>{account}</header>
{siting}{walls}{legend_html(ruleset.palette(), overlays)}
{hint}
<div id="rm-status" class="rm-status" data-tiles="0" data-features="0" data-errors="0"></div>
</aside>"""


def create_planner_router(source: LayerSource, redactor: Redactor, settings: Settings, principal,
                          ruleset: RuleSet) -> APIRouter:
    """The ``/map`` page (see the module docstring).

    Parameters
    ----------
    source, redactor, settings
        As for the other routers.
    principal : callable
        Dependency giving the caller (header or session cookie).
    ruleset : RuleSet
        For the palette of the legend and the kinds of the siting panel.
    """
    router = APIRouter(tags=["Pages"])
    base = settings.public_url or ""

    @router.get("/map", response_class=HTMLResponse, summary="Planner map (规划风险地图)")
    def planner_map(who: Principal = Depends(principal)):
        bounds = layer_bounds(source, redactor, who)
        tiles = base + WEB_TILES
        overlays = overlay_configs(PLANNER_OVERLAYS, source, redactor, who, tiles)
        config = {
            "page": "planner", "base": base, "role": who.role,
            "bounds": bounds,
            "basemap_layers": overlay_configs(BASEMAP_LAYERS, source, redactor, who, tiles),
            "overlays": overlays,
            "online_basemap": basemap_config(settings.basemap_url, bounds),
            "siting": {"url": f"{base}/api/siting"} if who.at_least(SITING_ROLE) else None,
            "palette": {"colours": list(ruleset.palette().colours), "names": list(ruleset.palette().names)},
        }
        towns = town_table(source, redactor, who, levels=("town", "grid"))
        m = offline_map(base, location=_centre(bounds), zoom_start=11)
        html = render_map_page(m, title="风险地图 Risk map · riskmap", entry="planner", config=config,
                               body_class="rm-page-planner", body=_panel(who, ruleset, towns, base, overlays))
        return HTMLResponse(html, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"})

    return router


def _centre(bounds) -> list[float]:
    if bounds is None:
        return [31.78, 119.95]  # Changzhou, for an empty store
    return [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
