"""Headless Chromium edits a plot and closes a hidden danger on the wall page, and sees the colour change.

The page's forms go through the editing API with the browser session (cookie, same origin); the
server recomputes the colours before it answers, and the page reloads to show them.
"""

from __future__ import annotations

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from server_common import TOKENS, TOWN_WEST, plot_geometry, recording, serving
from test_pages_browser import store  # noqa: F401 - the module-scoped fixture, shared

from chromium import CHROMIUM, Chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
TOWN = {"Authorization": "Bearer town-token-1234"}
FIVE = {"responsible": "李厂长", "measures": "清理通道", "funds_wan": 1.0, "time_limit": "2026-12-15",
        "plan": "疏散预案", "tag_level": "town", "deadline": "2026-12-31"}


@pytest.fixture(scope="module")
def server(store):  # noqa: F811 - the fixture imported above
    """The app over the browser tests' four-colour store (its ``store`` fixture), with requests recorded."""
    app, seen = recording(create_app(store, Settings(tokens=TOKENS)))
    with serving(app) as base:
        yield base, seen


def colour_of(tab, plot_id: str) -> str:
    return tab.evaluate(
        "(() => { const tr = Array.from(document.querySelectorAll('.rm-wall-list table.rm-list tr'))"
        f".find(r => r.children[1] && r.children[1].textContent === {plot_id!r});"
        " return tr ? tr.querySelector('.rm-sw').title : null; })()")


def open_wall(browser, base):
    tab = browser.tab(f"{base}/login#token=town-token-1234&next=/towns/{TOWN_WEST}/wall")
    tab.wait_for(f"location.pathname === '/towns/{TOWN_WEST}/wall' && document.readyState === 'complete' "
                 "&& document.getElementById('rm-plot-form')", what="the wall")
    return tab


def submit(tab, form: str, values: dict) -> None:
    """Fill ``values`` into form ``form`` and submit it; wait for the page to reload."""
    tab.evaluate("window.__before_reload = true")
    fill = "".join(f"f.elements[{k!r}].value = {str(v)!r};" for k, v in values.items())
    tab.evaluate(f"(() => {{ const f = document.getElementById({form!r}); {fill} f.requestSubmit(); }})()")
    tab.wait_for("!window.__before_reload && document.readyState === 'complete' && document.getElementById("
                 f"{form!r})", what=f"the wall after {form}", timeout=30)


def test_a_town_editor_edits_a_plot_and_closes_a_danger_in_the_browser(server):
    base, seen = server
    with httpx.Client(base_url=base, headers=TOWN, timeout=30) as api:
        point = plot_geometry(12).centroid  # P013: a green plot of the west town
        danger = {"type": "Feature", "id": "D1", "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                  "properties": {"plot_id": "P013", "town": TOWN_WEST, "description": "疏散通道堵塞",
                                 "level": "major", "status": "found", "found_on": "2026-11-20"}}
        assert api.post("/api/edit/hidden_dangers", json={"feature": danger, "reason": "巡查"}).status_code == 200
        for version, props in enumerate([{"status": "rectifying", **FIVE},
                                         {"status": "verified", **FIVE, "verified_on": "2026-12-01",
                                          "verified_by": "王验收"}], start=1):
            danger["properties"].update(props)
            r = api.put("/api/edit/hidden_dangers/D1", json={"feature": danger, "reason": "step"},
                        headers={"If-Match": f'"{version}"'})
            assert r.status_code == 200, r.text
    with Chromium(1200, 900) as browser:
        tab = open_wall(browser, base)
        assert colour_of(tab, "P009").startswith("蓝") and colour_of(tab, "P013").startswith("红")
        submit(tab, "rm-plot-form", {"plot_id": "P009", "risk_major": 1, "reason": "风险报告更新"})
        assert colour_of(tab, "P009").startswith("红")
        assert "已保存" not in tab.evaluate("document.body.innerText")  # reloaded, not a stale page
        submit(tab, "rm-danger-form", {"danger_id": "D1", "status": "closed", "closed_by": "赵镇长",
                                       "closed_on": "2026-12-02", "reason": "对账销号"})
        assert colour_of(tab, "P013").startswith("绿")
        refusals = [(p, s) for p, s in seen if s >= 400 and p != "/favicon.ico"]
        assert not refusals, refusals
        assert sum(1 for p, s in seen if p.startswith("/api/edit/") and s == 200) >= 4  # 2 reads, 2 writes


def test_a_town_editor_moves_a_plot_outline_on_the_map(server):
    base, seen = server
    before = plot_geometry(9).bounds  # P010, west town
    with Chromium(1200, 900) as browser:
        tab = open_wall(browser, base)
        tab.evaluate("(() => { const f = document.getElementById('rm-plot-form'); f.elements.plot_id.value = 'P010';"
                     " f.elements.reason.value = '测绘更正 survey correction';"
                     " document.getElementById('rm-shape-edit').click(); })()")
        tab.wait_for("RiskMap.shape && RiskMap.shape.markers.length >= 4", what="the vertex handles")
        tab.evaluate("window.__before_reload = true; RiskMap.shape.markers.forEach(m => { const ll = m.getLatLng();"
                     " m.setLatLng([ll.lat, ll.lng + 0.005]); m.fire('drag', {target: m}); });"
                     " document.getElementById('rm-shape-save').click()")
        tab.wait_for("!window.__before_reload && document.readyState === 'complete'", what="the wall after saving",
                     timeout=30)
    with httpx.Client(base_url=base, headers=TOWN, timeout=30) as api:
        feature = api.get("/api/edit/industrial_plots/P010").json()
        history = api.get(f"/towns/{TOWN_WEST}/plots/P010/history?f=json").json()["entries"]
    xs = [x for x, _ in feature["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(before[0] + 0.005, abs=1e-6)
    assert max(xs) == pytest.approx(before[2] + 0.005, abs=1e-6)
    assert feature["properties"]["row_version"] == 2
    assert any("geometry moved" in e["what"] and "survey correction" in e["why"] for e in history)
