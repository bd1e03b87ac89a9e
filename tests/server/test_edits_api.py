"""The editing API (issue 13 item 3): scope, versions, validation, audit, and colours that follow."""

from __future__ import annotations

import pytest

from server_common import PLANNER, TOWN_EAST, TOWN_WEST, plot_geometry

TOWN = {"Authorization": "Bearer town-token-1234"}  # town editor of TOWN_WEST


def _get(client, layer, fid, headers=TOWN):
    r = client.get(f"/api/edit/{layer}/{fid}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json(), r.headers["ETag"]


def _wall(store, plot_id):
    return store.read("risk_wall", where={"plot_id": [plot_id]}).iloc[0]


def _audit_count(store, layer, fid):
    return len(store.audit(layer=layer, feature=fid, limit=None))


def test_public_reaches_no_write(fresh_client, writable_store):
    feature, etag = _get(fresh_client, "industrial_plots", "P002")
    for call in (lambda: fresh_client.put("/api/edit/industrial_plots/P002", json={"feature": feature, "reason": "x"},
                                          headers={"If-Match": etag}),
                 lambda: fresh_client.post("/api/edit/shelters", json={"feature": feature, "reason": "x"}),
                 lambda: fresh_client.delete("/api/edit/shelters/SH1?reason=x", headers={"If-Match": '"1"'}),
                 lambda: fresh_client.get("/api/edit/hidden_dangers/D1")):
        r = call()
        assert r.status_code == 401, r.text
    assert _audit_count(writable_store, "industrial_plots", "P002") == 0


def test_town_editor_cannot_touch_another_town(fresh_client, writable_store):
    plot = writable_store.read("industrial_plots", where={"town": TOWN_EAST}).iloc[0]
    feature, etag = _get(fresh_client, "industrial_plots", plot["plot_id"], headers=PLANNER)
    r = fresh_client.put(f"/api/edit/industrial_plots/{plot['plot_id']}", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "try"})
    assert r.status_code == 403 and TOWN_WEST in r.json()["description"]
    # nor move one of its own plots into the other town
    feature, etag = _get(fresh_client, "industrial_plots", "P002")
    feature["properties"]["town"] = TOWN_EAST
    r = fresh_client.put("/api/edit/industrial_plots/P002", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "move"})
    assert r.status_code == 403
    assert _audit_count(writable_store, "industrial_plots", "P002") == 0


def test_edit_recolours_at_once_with_exactly_one_audit_row(fresh_client, writable_store):
    assert _wall(writable_store, "P002")["colour_name"] == "yellow"
    feature, etag = _get(fresh_client, "industrial_plots", "P002")
    feature["properties"]["risk_major"] = 1
    r = fresh_client.put("/api/edit/industrial_plots/P002", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "风险报告更新 risk report 2026"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["row_version"] == int(etag.removeprefix('W/').strip('"')) + 1 and body["action"] == "update"
    audit = writable_store.audit(layer="industrial_plots", feature="P002", limit=None)
    assert len(audit) == 1 and len(body["audit_ids"]) == 1
    entry = audit.iloc[0]
    assert entry["before"]["risk_major"] == 0 and entry["after"]["risk_major"] == 1
    assert entry["detail"] == "风险报告更新 risk report 2026" and entry["actor"] == f"town_editor:{TOWN_WEST}"
    wall = _wall(writable_store, "P002")
    assert wall["level"] == 1 and wall["colour_name"] == "red"  # risk_report rule: a major risk → 重大
    assert body["derived"]["risk_wall"] == 1
    town_zone = writable_store.read("risk_zones", where={"zone_id": [TOWN_WEST]}).iloc[0]
    assert town_zone["level"] == 1
    assert "risk_wall" not in body["stale"] and "risk_surface" in body["stale"]


def test_stale_version_is_409_with_the_current_row(fresh_client, writable_store):
    feature, etag = _get(fresh_client, "industrial_plots", "P005")
    feature["properties"]["tenants"] = 3
    ok = fresh_client.put("/api/edit/industrial_plots/P005", headers={**TOWN, "If-Match": etag},
                          json={"feature": feature, "reason": "tenants counted"})
    assert ok.status_code == 200
    feature["properties"]["tenants"] = 5
    r = fresh_client.put("/api/edit/industrial_plots/P005", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "late"})
    assert r.status_code == 409
    current = r.json()["current"]
    assert current[0]["id"] == "P005" and current[0]["properties"]["tenants"] == 3
    assert current[0]["properties"]["row_version"] == ok.json()["row_version"]
    assert _audit_count(writable_store, "industrial_plots", "P005") == 1


@pytest.mark.parametrize("change, status, field", [
    ({"risk_major": -1}, 422, "risk_major"),
    ({"land_use": "X9"}, 422, "land_use"),
    ({"supervision_grade": "Z"}, 422, "supervision_grade"),
])
def test_edits_are_validated_as_imports_are(fresh_client, writable_store, change, status, field):
    feature, etag = _get(fresh_client, "industrial_plots", "P006")
    feature["properties"].update(change)
    r = fresh_client.put("/api/edit/industrial_plots/P006", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "typo"})
    assert r.status_code == status
    assert [p["field"] for p in r.json()["problems"]] == [field]
    assert r.json()["problems"][0]["feature"] == "P006"
    assert _audit_count(writable_store, "industrial_plots", "P006") == 0


def test_an_edit_needs_a_reason_and_a_version(fresh_client):
    feature, etag = _get(fresh_client, "industrial_plots", "P006")
    r = fresh_client.put("/api/edit/industrial_plots/P006", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "  "})
    assert r.status_code == 400 and "reason" in r.json()["description"]
    r = fresh_client.put("/api/edit/industrial_plots/P006", headers=TOWN, json={"feature": feature, "reason": "x"})
    assert r.status_code == 400 and "If-Match" in r.json()["description"]
    r = fresh_client.put("/api/edit/roads/R1", headers={**PLANNER, "If-Match": '"1"'},
                         json={"feature": feature, "reason": "x"})
    assert r.status_code == 404 and "editable layers" in r.json()["description"]


def test_hazard_site_inventory_edit_regrades_the_site(fresh_client, writable_store):
    before = writable_store.read("major_hazards", where={"site_id": ["HS2"]}).iloc[0]
    feature, etag = _get(fresh_client, "hazard_sites", "HS2", headers=PLANNER)
    feature["properties"]["inventory"] = '[{"name": "甲苯", "cas": "108-88-3", "quantity_t": 8000}]'
    r = fresh_client.put("/api/edit/hazard_sites/HS2", headers={**PLANNER, "If-Match": etag},
                         json={"feature": feature, "reason": "storage extended"})
    assert r.status_code == 200, r.text
    after = writable_store.read("major_hazards", where={"site_id": ["HS2"]}).iloc[0]
    # GB 18218-2018: toluene Q = 500 t (Table 1), so q/Q goes from 800/500 to 8000/500
    assert after["ratio_sum"] == pytest.approx(8000 / 500) and before["ratio_sum"] == pytest.approx(800 / 500)
    bad = dict(feature, properties={**feature["properties"], "inventory": '[{"name": "水", "quantity_t": 1}]'})
    r = fresh_client.put("/api/edit/hazard_sites/HS2", headers={**PLANNER, "If-Match": r.headers["ETag"]},
                         json={"feature": bad, "reason": "x"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "inventory"


def test_create_and_retire_a_shelter(fresh_client, writable_store):
    feature = {"type": "Feature", "id": "SH9", "geometry": {"type": "Point", "coordinates": [119.93, 31.71]},
               "properties": {"name": "新建避难场所", "class": "emergency", "effective_area_m2": 3000,
                              "capacity": 1500, "town": TOWN_WEST}}
    r = fresh_client.post("/api/edit/shelters", headers=TOWN, json={"feature": feature, "reason": "新建"})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "insert" and r.json()["row_version"] == 1
    again = fresh_client.post("/api/edit/shelters", headers=TOWN, json={"feature": feature, "reason": "twice"})
    assert again.status_code == 409
    r = fresh_client.delete("/api/edit/shelters/SH9?reason=closed", headers={**TOWN, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["action"] == "retire"
    assert [a for a in writable_store.audit(layer="shelters", feature="SH9", limit=None)["action"]] == [
        "retire", "insert"]


def test_an_edit_drops_the_tiles_it_touched(fresh_client, monkeypatch):
    from server.tiles import TileService

    calls = []
    monkeypatch.setattr(TileService, "invalidate", lambda self, layers, bounds: calls.append((set(layers), bounds)))
    feature, etag = _get(fresh_client, "industrial_plots", "P006")
    feature["properties"]["risk_major"] = 1
    r = fresh_client.put("/api/edit/industrial_plots/P006", headers={**TOWN, "If-Match": etag},
                         json={"feature": feature, "reason": "report"})
    assert r.status_code == 200
    (on_rows, near), (zones, around) = calls
    assert on_rows == {"industrial_plots", "risk_wall"} and zones == {"risk_zones"}
    plot = plot_geometry(5)  # P006
    assert near == pytest.approx(plot.bounds, abs=1e-6)  # the plot's wall row lies on the plot: its tiles only
    west, south, east, north = around
    assert west <= plot.bounds[0] and east >= plot.bounds[2] and south <= plot.bounds[1] and north >= plot.bounds[3]
    assert east - west < 0.15  # the town and cells around the plot, not the whole city's extent


def test_the_servers_cached_wall_is_carried_over_not_reloaded(fresh_client):
    import mapbox_vector_tile

    from geo.tiles import tile_containing

    source = fresh_client.app.state.services.source
    point = plot_geometry(1).centroid  # P002
    x, y = tile_containing(point.x, point.y, 15)
    url = f"/tiles/risk_wall/15/{int(x)}/{int(y)}.mvt"

    def colour_in_tile():
        r = fresh_client.get(url, headers=PLANNER)
        features = mapbox_vector_tile.decode(r.content)["risk_wall"]["features"]
        return next(f["properties"]["colour_name"] for f in features if f["properties"]["plot_id"] == "P002")

    assert colour_in_tile() == "yellow"  # the whole layer is now in the server's frame cache
    feature, etag = _get(fresh_client, "industrial_plots", "P002")
    feature["properties"]["risk_major"] = 1
    fresh_client.put("/api/edit/industrial_plots/P002", headers={**TOWN, "If-Match": etag},
                     json={"feature": feature, "reason": "report"})
    misses = source.stats()["frames"]["misses"]
    assert colour_in_tile() == "red"
    assert source.stats()["frames"]["misses"] == misses  # the edited frame was ready: no reload of the layer
    item = fresh_client.get("/collections/risk_wall/items/P002", headers=PLANNER).json()
    assert item["properties"]["colour_name"] == "red"


def test_a_moved_plot_is_carried_over_to_its_new_place(fresh_client):
    """The carried frame's spatial index follows a geometry edit (rebuilt), without reloading the layer."""
    import mapbox_vector_tile

    from geo.tiles import tile_containing

    source = fresh_client.app.state.services.source

    def plots_in_tile(point):
        x, y = tile_containing(point.x, point.y, 15)
        r = fresh_client.get(f"/tiles/industrial_plots/15/{int(x)}/{int(y)}.mvt", headers=PLANNER)
        if r.status_code == 204:
            return set()
        features = mapbox_vector_tile.decode(r.content)["industrial_plots"]["features"]
        return {f["properties"]["plot_id"] for f in features}

    old, new = plot_geometry(1).centroid, plot_geometry(2).centroid  # P002 moves 4 km east, next to P003
    assert "P002" in plots_in_tile(old) and "P002" not in plots_in_tile(new)
    source.wait_loaded()  # the layer is in the server's frame cache
    feature, etag = _get(fresh_client, "industrial_plots", "P002", headers=PLANNER)
    x0, y0, x1, y1 = plot_geometry(2).bounds
    feature["geometry"] = {"type": "Polygon", "coordinates": [[[x0, y1 + 0.001], [x1, y1 + 0.001], [x1, y1 + 0.004],
                                                               [x0, y1 + 0.004], [x0, y1 + 0.001]]]}
    r = fresh_client.put("/api/edit/industrial_plots/P002", headers={**PLANNER, "If-Match": etag},
                         json={"feature": feature, "reason": "re-surveyed"})
    assert r.status_code == 200, r.text
    misses = source.stats()["frames"]["misses"]
    assert "P002" not in plots_in_tile(old) and "P002" in plots_in_tile(new)
    assert source.stats()["frames"]["misses"] == misses


def test_rows_replaced_in_place_keep_the_index_and_leave_the_old_frame_alone():
    import geopandas as gpd
    import pandas as pd
    import shapely

    from server.source import replace_rows

    frame = gpd.GeoDataFrame({"plot_id": ["a", "b", "c"], "workers": pd.array([1, 2, None], dtype="Int64")},
                             geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:4490")
    frame.sindex
    fresh = frame.iloc[[1]].copy()
    fresh["workers"] = pd.array([7], dtype="Int64")
    merged = replace_rows(frame, fresh, "plot_id", ["b"])
    assert merged["workers"].tolist()[:2] == [1, 7] and pd.isna(merged["workers"].iloc[2])
    assert frame["workers"].iloc[1] == 2  # the frame of the version before is unchanged
    assert merged.has_sindex and merged.sindex is frame.sindex  # same geometries: same index
    fresh["geometry"] = [shapely.box(5, 5, 6, 6)]
    moved = replace_rows(frame, fresh, "plot_id", ["b"])
    assert not moved.has_sindex and list(moved.sindex.query(shapely.box(5.5, 5.5, 5.6, 5.6))) == [1]
    assert replace_rows(frame, fresh.iloc[:0], "plot_id", ["b"]) is None  # retired: rows go
    assert replace_rows(frame, fresh.assign(workers=["many"]), "plot_id", ["b"]) is None  # does not fit
