"""A hidden danger through its whole loop over the API, the plot's colour following (issue 13 item 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from server_common import TOWN_WEST, plot_geometry
from zoning.wall.dangers import DangerStepError, check_dangers, overdue_dangers

TOWN = {"Authorization": "Bearer town-token-1234"}


def _danger(**props):
    point = plot_geometry(1).centroid  # plot P002, yellow in the fixture
    base = {"plot_id": "P002", "town": TOWN_WEST, "description": "配电室无防护 unguarded switch room",
            "level": "major", "status": "found", "found_on": "2026-11-02", "found_by": "张检查"}
    return {"type": "Feature", "id": "D1", "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
            "properties": {**base, **props}}


def _put(client, props, version, reason="step"):
    return client.put("/api/edit/hidden_dangers/D1", headers={**TOWN, "If-Match": f'"{version}"'},
                      json={"feature": _danger(**props), "reason": reason})


def _colour(store):
    return store.read("risk_wall", where={"plot_id": ["P002"]})["colour_name"].iloc[0]


FIVE = {"responsible": "李厂长", "measures": "加装防护栏", "funds_wan": 2.5, "time_limit": "2026-12-15",
        "plan": "配电室应急预案"}


def test_a_danger_goes_round_its_loop_and_the_colour_follows(fresh_client, writable_store):
    store = writable_store
    assert _colour(store) == "yellow"
    r = fresh_client.post("/api/edit/hidden_dangers", headers=TOWN, json={"feature": _danger(), "reason": "巡查发现"})
    assert r.status_code == 200, r.text
    assert r.json()["follow_ups"] == [{"layer": "industrial_plots", "ids": ["P002"]}]
    plot = store.read("industrial_plots", where={"plot_id": ["P002"]}).iloc[0]
    assert plot["open_major_dangers"] == 1 and _colour(store) == "red"

    wrong = _put(fresh_client, {"status": "closed"}, 1)
    assert wrong.status_code == 409
    assert wrong.json()["description"] == "D1: cannot go from found to closed; from found: found, tagged, rectifying"
    lacking = _put(fresh_client, {"status": "tagged", "tag_level": "district"}, 1)
    assert lacking.status_code == 409 and lacking.json()["description"] == "D1: status tagged needs deadline"

    steps = [{"status": "tagged", "tag_level": "district", "deadline": "2026-12-31"},
             {"status": "rectifying", "tag_level": "district", "deadline": "2026-12-31", **FIVE},
             {"status": "verified", "tag_level": "district", "deadline": "2026-12-31", **FIVE,
              "verified_on": "2026-12-20", "verified_by": "王验收"}]
    for version, props in enumerate(steps, start=1):
        r = _put(fresh_client, props, version)
        assert r.status_code == 200, r.text
        assert _colour(store) == "red"  # open until closed (对账销号)
    plot = store.read("industrial_plots", where={"plot_id": ["P002"]}).iloc[0]
    assert (plot["open_major_dangers"], plot["tagged_dangers"]) == (1, 1)
    r = _put(fresh_client, {**steps[-1], "status": "closed", "closed_on": "2026-12-22", "closed_by": "赵镇长"}, 4,
             reason="对账销号")
    assert r.status_code == 200, r.text
    plot = store.read("industrial_plots", where={"plot_id": ["P002"]}).iloc[0]
    assert (plot["open_major_dangers"], plot["tagged_dangers"]) == (0, 0) and _colour(store) == "yellow"
    audit = store.audit(layer="hidden_dangers", feature="D1", limit=None)
    assert list(audit["action"]) == ["update"] * 4 + ["insert"]  # one row per accepted edit, none for refusals
    again = _put(fresh_client, {**steps[-1], "status": "rectifying"}, 5)
    assert again.status_code == 409 and "closed danger is final" in again.json()["description"]


def test_the_public_never_reads_a_danger(fresh_client):
    fresh_client.post("/api/edit/hidden_dangers", headers=TOWN, json={"feature": _danger(), "reason": "found"})
    assert fresh_client.get("/collections/hidden_dangers/items").status_code == 404
    assert fresh_client.get("/api/edit/hidden_dangers/D1").status_code == 401
    assert fresh_client.get("/tiles/hidden_dangers/14/13697/6693.mvt").status_code == 404
    body = fresh_client.get("/collections").text
    assert "hidden_dangers" not in body and "配电室" not in body


@pytest.mark.parametrize("before, after, message", [
    (None, "verified", "a new hidden danger starts as found or tagged, not verified"),
    ("tagged", "found", "cannot go from tagged to found"),
    ("rectifying", "closed", "cannot go from rectifying to closed"),
])
def test_wrong_steps_are_refused(before, after, message):
    old = None if before is None else pd.DataFrame({"danger_id": ["D7"], "status": [before]})
    with pytest.raises(DangerStepError, match=message):
        check_dangers(pd.DataFrame({"danger_id": ["D7"], "status": [after]}), old)


def test_overdue_is_past_the_earlier_of_deadline_and_time_limit():
    d = pd.DataFrame({"status": ["tagged", "rectifying", "verified", "found"],
                      "deadline": pd.to_datetime(["2026-12-01", "2027-01-01", "2026-01-01", None]),
                      "time_limit": pd.to_datetime([None, "2026-11-30", None, None])})
    assert overdue_dangers(d, "2026-12-02").tolist() == [True, True, False, False]
    assert overdue_dangers(d, "2026-11-30").tolist() == [False, False, False, False]


def test_a_record_cannot_reach_across_towns(fresh_client, writable_store):
    """A west-town editor cannot raise a danger on an east-town plot, whatever town it writes."""
    east = _danger(plot_id="P004")  # P004 lies in the east town
    r = fresh_client.post("/api/edit/hidden_dangers", headers=TOWN, json={"feature": east, "reason": "x"})
    assert r.status_code == 403
    planner = {"Authorization": "Bearer planner-token-123"}
    r = fresh_client.post("/api/edit/hidden_dangers", headers=planner, json={"feature": east, "reason": "x"})
    assert r.status_code == 400 and "plot P004 is in town '320412002'" in r.json()["description"]
    ghost = _danger(plot_id="P999")
    r = fresh_client.post("/api/edit/hidden_dangers", headers=planner, json={"feature": ghost, "reason": "x"})
    assert r.status_code == 400 and "no plot 'P999'" in r.json()["description"]
    assert writable_store.read("industrial_plots", where={"plot_id": ["P004"]})["open_major_dangers"].iloc[0] == 0
