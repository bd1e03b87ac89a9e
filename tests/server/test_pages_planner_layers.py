"""The planner map's layers, layer control and legend, per role; the siting panel's inventory box.

Hazardous-chemical sites, their safety buffers and the protected targets are overlays with
popups of what the caller may see. The layer control (built by the page's script from the
config's overlays) and the legend (in the panel) both come from the overlays the caller was
given, so a public caller's page names no private layer anywhere; a town editor and a planner
see them all (the full view every role above public gets), only the planner the siting panel.
"""

from __future__ import annotations

import re

import pytest

from layers.catalogue import CATALOGUE
from server.auth import Principal
from server.pages.layers import PLANNER_OVERLAYS, popup_fields
from server.pages.planner import siting_kinds
from server.redaction import Redactor
from server_common import PLANNER, page_config
from zoning.rules import load_ruleset

TOWN = {"Authorization": "Bearer town-token-1234"}
ADMIN = {"Authorization": "Bearer admin-token-1234"}
#: Overlays of the planner map whose layer the public may not see at all, with their labels.
PRIVATE = {o.id: o for o in PLANNER_OVERLAYS if o.layer in {"risk_surface", "safety_buffers", "separation_violations",
                                                             "hazard_sites", "protected_targets", "coverage_areas",
                                                             "coverage_gaps"} or o.id == "zones_grid"}
PUBLIC_OVERLAYS = {"zones_town", "risk_wall", "rescue_stations", "shelters"}
#: The fixture store has no coverage run: these two are absent for everyone.
ABSENT = {"coverage_areas", "coverage_gaps"}
ALL_OVERLAYS = {o.id for o in PLANNER_OVERLAYS} - ABSENT
#: A town editor sees every layer whose rows carry a town, and the rest as the public does: the
#: risk surface (one raster over every town) and the grid zones are not its own towns' rows.
TOWN_OVERLAYS = ALL_OVERLAYS - {"risk_surface", "zones_grid"}


def page(client, headers) -> tuple[str, dict]:
    html = client.get("/map", headers=headers).text
    return html, page_config(html)


def legend_ids(html: str) -> list[str]:
    legend = html.split('id="rm-legend"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<li data-legend="([^"]+)">', legend)


@pytest.mark.parametrize("headers, overlays, siting", [
    ({}, PUBLIC_OVERLAYS, False),
    (TOWN, TOWN_OVERLAYS, False),
    (PLANNER, ALL_OVERLAYS, True),
    (ADMIN, ALL_OVERLAYS, True),
], ids=["public", "town_editor", "planner", "admin"])
def test_controls_and_legend_list_exactly_the_layers_the_caller_may_see(client, headers, overlays, siting):
    html, cfg = page(client, headers)
    given = [o["id"] for o in cfg["overlays"]]
    assert set(given) == overlays  # the layer control is built from these, bottom to top
    swatched = [o.id for o in PLANNER_OVERLAYS if o.id in overlays and o.swatch]
    assert legend_ids(html) == ["level-1", "level-2", "level-3", "level-4", *swatched]
    assert ('id="rm-siting"' in html) is siting
    if headers == {}:  # not a word of a private layer on the public page
        for o in PRIVATE.values():
            assert o.zh not in html and o.en not in html, o.id
        assert not {"hazard_sites", "protected_targets", "safety_buffers"} & set(re.findall(r"/web/tiles/(\w+)/", html))


def test_hazard_sites_buffers_and_targets_are_on_for_a_planner_with_their_popup_fields(client):
    _, cfg = page(client, PLANNER)
    by_id = {o["id"]: o for o in cfg["overlays"]}
    for name in ("hazard_sites", "safety_buffers", "protected_targets"):
        assert by_id[name]["on"] and by_id[name]["url"] == f"/web/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"
    sites = {f["name"]: f for f in by_id["hazard_sites"]["fields"]}
    assert sites["inventory"]["type"] == "json" and sites["inventory"]["zh"] == "危险化学品及数量"
    assert {"site_id", "name", "major_hazard_grade", "processes"} <= set(sites)
    targets = {f["name"]: f for f in by_id["protected_targets"]["fields"]}
    assert targets["gb36894_class"]["choices"]["high_sensitivity"] == "高敏感防护目标 high-sensitivity"
    assert {f["name"] for f in by_id["safety_buffers"]["fields"]} >= {"site_id", "target_class", "distance_m"}
    order = [o["id"] for o in cfg["overlays"]]  # the sites and targets are drawn above the plots
    assert order.index("risk_wall") < order.index("protected_targets") < order.index("hazard_sites")
    assert order.index("safety_buffers") < order.index("risk_wall")


def test_each_overlay_with_a_legend_symbol_has_its_style_in_the_stylesheet(client):
    css = client.get("/static/riskmap/riskmap.css").text
    for o in PLANNER_OVERLAYS:
        if o.swatch:
            assert f".rm-sw-{o.swatch} " in css or f".rm-sw-{o.swatch}{{" in css, o.id


def test_the_inventory_box_is_for_the_kinds_that_store_chemicals():
    kinds = {k["kind"]: k["inventory"] for k in siting_kinds(load_ruleset())}
    assert kinds["hazardous_plant"] is True and kinds["school"] is False
    assert [k for k, stores in kinds.items() if stores] == ["hazardous_plant"]


def test_the_inventory_box_starts_hidden_and_hidden_beats_the_label_rule(client):
    html = client.get("/map", headers=PLANNER).text
    assert re.search(r'<label id="rm-inventory-row" hidden>', html)
    css = client.get("/static/riskmap/riskmap.css").text
    assert re.search(r"\[hidden\]\s*\{\s*display:\s*none\s*!important;\s*\}", css)
    script = client.get("/static/riskmap/riskmap-pages.js").text
    assert "getAttribute('data-inventory') === 'true'" in script and "=== 'hazardous_plant'" not in script


def test_the_popup_labels_come_from_the_catalogue():
    fields = popup_fields("hazard_sites", Redactor().view("hazard_sites", Principal("planner")))
    labels = {f.name: f.zh for f in CATALOGUE["hazard_sites"].fields}
    assert all(f["zh"] == labels[f["name"]] for f in fields) and "generated" not in {f["name"] for f in fields}
