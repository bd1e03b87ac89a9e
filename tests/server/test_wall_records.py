"""The wall's records: stale banner, three lists with CSV/XLSX export, plot history, overdue flags."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from server_common import PLANNER, TOWN_EAST, TOWN_WEST, plot_geometry

TOWN = {"Authorization": "Bearer town-token-1234"}


def _post(client, layer, fid, props, geometry):
    feature = {"type": "Feature", "id": fid, "geometry": geometry, "properties": props}
    r = client.post(f"/api/edit/{layer}", headers=TOWN, json={"feature": feature, "reason": "recorded"})
    assert r.status_code == 200, r.text
    return r.json()


def _point(k):
    c = plot_geometry(k).centroid
    return {"type": "Point", "coordinates": [c.x, c.y]}


def _records(client):
    _post(client, "hidden_dangers", "D1", {"plot_id": "P002", "town": TOWN_WEST, "description": "消防通道堵塞",
                                           "level": "major", "status": "tagged", "tag_level": "town",
                                           "deadline": "2020-01-31", "found_on": "2020-01-02"}, _point(1))
    _post(client, "responsibilities", "R1", {"plot_id": "P002", "town": TOWN_WEST, "person": "陈包保",
                                             "unit": "西镇安监办", "measures": "每周巡查"}, _point(1))
    _post(client, "inspections", "I1", {"plot_id": "P002", "town": TOWN_WEST, "inspected_on": "2020-01-02",
                                        "inspector": "张检查", "findings": "通道堵塞", "dangers_raised": "D1"},
          _point(1))


def test_wall_shows_the_lists_overdue_flags_and_a_stale_banner(fresh_client):
    _records(fresh_client)
    page = fresh_client.get(f"/towns/{TOWN_WEST}/wall", headers=TOWN).text
    assert "一图三单" in page and "消防通道堵塞" in page and "陈包保" in page
    assert '<td class="rm-overdue">逾期 overdue</td>' in page  # the danger's 2020 deadline has passed
    assert "检查逾期" in page and "P002" in page.split("检查逾期")[1][:400]  # inspected 2020, red plot: 30 days
    assert "派生图层已过期" in page and "risk_surface" in page and "riskmap zone" in page
    assert 'id="rm-plot-form"' in page and '<option value="D1">' in page


def test_lists_export_as_csv_and_xlsx(fresh_client):
    _records(fresh_client)
    csv = fresh_client.get(f"/towns/{TOWN_WEST}/lists/dangers.csv", headers=TOWN)
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert frame.loc[0, "隐患 danger"] == "D1" and frame.loc[0, "逾期 overdue"] == "逾期 overdue"
    xlsx = fresh_client.get(f"/towns/{TOWN_WEST}/lists/responsibilities.xlsx", headers=TOWN)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.values)
    assert sheet.title == "责任清单" and rows[0][:3] == ("地块 plot", "颜色 colour", "包保责任人 person")
    # red: D1 is open
    assert [r for r in rows if r[0] == "P002"] == [("P002", "红色(重大风险)", "陈包保", "西镇安监办", "每周巡查")]
    risk = pd.read_csv(io.BytesIO(fresh_client.get(f"/towns/{TOWN_WEST}/lists/risk.csv", headers=TOWN).content))
    assert set(risk["地块 plot"]) == {f"P{k:03d}" for k in (1, 2, 5, 6, 9, 10, 13, 14)}  # the west town's plots


def test_lists_are_the_towns_own(fresh_client):
    assert fresh_client.get(f"/towns/{TOWN_EAST}/lists/dangers.csv", headers=TOWN).status_code == 403
    assert fresh_client.get(f"/towns/{TOWN_WEST}/lists/dangers.csv").status_code == 401
    assert fresh_client.get(f"/towns/{TOWN_WEST}/plots/P004/history?f=json", headers=TOWN).status_code == 404
    assert fresh_client.get(f"/towns/{TOWN_WEST}/lists/secrets.csv", headers=TOWN).status_code == 400


def test_plot_history_tells_colour_changes_edits_and_dangers(fresh_client):
    r = fresh_client.get("/api/edit/industrial_plots/P002", headers=TOWN)
    feature = r.json()
    feature["properties"]["risk_major"] = 2
    fresh_client.put("/api/edit/industrial_plots/P002", headers={**TOWN, "If-Match": r.headers["ETag"]},
                     json={"feature": feature, "reason": "新风险报告"})
    _records(fresh_client)
    body = fresh_client.get(f"/towns/{TOWN_WEST}/plots/P002/history?f=json", headers=PLANNER).json()
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds.count("colour 颜色") == 1 and "edit 编辑" in kinds and "danger 隐患" in kinds
    assert "inspection 检查" in kinds and "responsibility 责任" in kinds
    colour = next(e for e in body["entries"] if e["kind"] == "colour 颜色")
    assert colour["what"].startswith("颜色 黄色(较大风险) → 红色(重大风险) colour yellow → red")
    assert "新风险报告" in colour["why"]
    edit = next(e for e in body["entries"] if e["kind"] == "edit 编辑" and "risk_major" in e["what"])
    assert "risk_major: 0 → 2" in edit["what"]
