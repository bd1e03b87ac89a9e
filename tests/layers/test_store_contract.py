"""The Store contract (layers/store.py), run against every backend: GeoPackage and PostGIS.

Each test gets an empty store of each kind (``any_store``): a new .gpkg file, or a fresh schema of
the session's PostgreSQL + PostGIS server (tests/postgis_server.py). Everything is checked through
the public API only, so the two backends must agree.
"""

from __future__ import annotations

import multiprocessing
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

import layers.gpkg_write
import layers.postgis
from geo.errors import CRSError, InputError
from layers.errors import Conflict, LayerNotFound, StoreError, ValidationError
from layers.store import AUDIT_COLUMNS, EditResult, LayerInfo, Store, create_store
from layers.validate import validate_layer
from layers_common import counting_catalogue_reads, plots, plots_version, stations
from store_workers import edit_workers, read_while, rewrite

BACKENDS = ("gpkg", "postgis")
TRANSACTIONS = {"gpkg": layers.gpkg_write.GpkgTransaction, "postgis": layers.postgis._PgTransaction}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def any_store(backend, tmp_path, request) -> Store:
    """An empty store of the backend under test."""
    if backend == "gpkg":
        store = create_store(tmp_path / "city.gpkg")
    else:
        store = create_store(request.getfixturevalue("postgis_address"))
    yield store
    store.close()


@pytest.fixture
def plotted(any_store) -> Store:
    """A store holding 5 validated plots (P001-P005, version 1)."""
    any_store.write("industrial_plots", validate_layer("industrial_plots", plots(5)), actor="importer")
    return any_store


def test_the_catalogue_is_read_once_until_it_changes(plotted, monkeypatch):
    """Both stores cache the catalogue between changes (issue 14: it was read on every request) and
    see their own writes at once (other writers: tests/layers/test_*_catalogue.py)."""
    first = plotted.infos()
    calls = counting_catalogue_reads(plotted, monkeypatch)
    for _ in range(20):
        assert plotted.infos() == first
    assert calls == []
    plotted.write("industrial_plots", validate_layer("industrial_plots", plots(6)))
    assert plots_version(plotted) == 2 and len(calls) == 1


def _state(store: Store) -> tuple:
    """Everything a refused write must leave as it was."""
    return ([(i.name, i.rows, i.version) for i in store.infos()], len(store.audit(limit=None)))


# ---------------------------------------------------------------------------- whole layers
@pytest.mark.parametrize("rows", [5, 2600], ids=["few", "bulk"])  # a bulk write takes another path
def test_round_trip_keeps_values_and_dtypes(any_store, rows):
    clean = validate_layer("industrial_plots", plots(rows))
    clean.loc[2, "workers"] = pd.NA
    clean.loc[1, "key_process"] = pd.NA
    clean.loc[3, "enterprise"] = None
    clean.loc[4, "last_inspection"] = pd.NaT
    any_store.write("industrial_plots", clean)
    back = any_store.read("industrial_plots")
    assert back.crs == "EPSG:4490"
    assert back.columns.tolist() == clean.columns.tolist()
    for column in clean.columns.drop("geometry"):
        assert str(back[column].dtype) == str(clean[column].dtype), column
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(clean.drop(columns="geometry")))
    assert back.geometry.geom_equals_exact(clean.geometry, tolerance=0).all()


@pytest.mark.parametrize("repeat", [1, 900], ids=["few", "bulk"])
def test_types_of_a_layer_outside_the_catalogue_survive(any_store, repeat):
    frame = stations(3)[["station_id", "geometry"]].assign(
        count=[1, 2, 3], share=[0.5, np.nan, 2.25], flag=[True, False, True],
        when=pd.to_datetime(["2026-01-02 03:04:05.678", "2026-02-03", None], format="ISO8601"), note=["甲", None, "c"])
    frame = pd.concat([frame] * repeat, ignore_index=True).assign(station_id=lambda f: [f"F{i}" for i in range(len(f))])
    any_store.write("coverage_gaps", gpd.GeoDataFrame(frame, crs="EPSG:4490"), id_field="station_id")
    back = any_store.read("coverage_gaps").iloc[:3]
    assert back["count"].tolist() == [1, 2, 3] and str(back["count"].dtype) == "int64"
    assert back["share"].tolist()[0] == 0.5 and np.isnan(back["share"].iloc[1])
    assert back["flag"].tolist() == [True, False, True]
    assert back["when"].tolist()[:2] == [pd.Timestamp("2026-01-02 03:04:05.678"), pd.Timestamp("2026-02-03")]
    assert pd.isna(back["when"].iloc[2]) and back["note"].tolist()[0] == "甲" and pd.isna(back["note"].iloc[1])


def test_versions_info_and_audit(any_store):
    first = any_store.write("industrial_plots", validate_layer("industrial_plots", plots(3)), actor="planner",
                            detail="first")
    second = any_store.write("industrial_plots", validate_layer("industrial_plots", plots(4)), actor="planner",
                             detail="second")
    assert (first.version, second.version) == (1, 2)
    info = any_store.info("industrial_plots")
    assert isinstance(info, LayerInfo)
    assert (info.rows, info.version, info.derived, info.crs, info.kind, info.id_field) == \
        (4, 2, False, "EPSG:4490", "vector", "plot_id")
    assert info.updated_at.endswith("+00:00")
    log = any_store.audit()
    assert log.columns.tolist() == list(AUDIT_COLUMNS)
    assert log["detail"].tolist() == ["second", "first"]
    assert log["rows"].tolist() == [4, 3] and set(log["actor"]) == {"planner"}
    assert log["before"].tolist() == [{"version": 1, "rows": 3}, None]
    assert log["after"].iloc[0] == {"version": 2, "rows": 4, "retired": 0, "revived": 0}
    assert len(any_store.audit(limit=1)) == 1


def test_derived_layers_carry_provenance(plotted):
    buffers = plotted.read("industrial_plots")[["plot_id", "geometry"]]
    infos = plotted.write_many({"safety_buffers": buffers, "risk_zones": buffers.iloc[:2]}, derived=True,
                               ruleset_version="jiangsu-2024.1", fingerprint="abc123", actor="engine",
                               action="derive")
    assert set(infos) == {"safety_buffers", "risk_zones"}
    info = plotted.info("risk_zones")
    assert (info.derived, info.ruleset_version, info.fingerprint, info.rows, info.id_field) == \
        (True, "jiangsu-2024.1", "abc123", 2, None)
    assert plotted.layers() == ["industrial_plots", "risk_zones", "safety_buffers"]
    assert plotted.audit(limit=2)["action"].tolist() == ["derive", "derive"]


def test_restamp_moves_only_the_layers_carrying_the_expected_fingerprint(plotted):
    buffers = plotted.read("industrial_plots")[["plot_id", "geometry"]]
    plotted.write("safety_buffers", buffers, derived=True, fingerprint="old", actor="engine", action="derive")
    plotted.write("risk_zones", buffers, derived=True, fingerprint="older", actor="engine", action="derive")
    versions = {n: plotted.info(n).version for n in ("safety_buffers", "risk_zones")}
    done = plotted.restamp(["safety_buffers", "risk_zones", "absent_layer"], "new", expected="old")
    assert done == ["safety_buffers"]
    assert (plotted.info("safety_buffers").fingerprint, plotted.info("risk_zones").fingerprint) == ("new", "older")
    assert {n: plotted.info(n).version for n in versions} == versions  # rows untouched, versions too


def test_lists_and_dicts_are_stored_as_json_text(any_store):
    frame = stations(2)[["station_id", "geometry"]].assign(reasons=[["a", "b"], {"k": 1}])
    any_store.write("coverage_gaps", frame)
    assert any_store.read("coverage_gaps")["reasons"].tolist() == ['["a", "b"]', '{"k": 1}']


def test_an_empty_layer_can_be_written(any_store):
    empty = stations(1).iloc[:0][["station_id", "geometry"]]
    assert any_store.write("separation_violations", empty).rows == 0
    assert len(any_store.read("separation_violations")) == 0


# ---------------------------------------------------------------------------- reads
def test_bbox_read_keeps_the_rows_whose_box_meets_it(any_store):
    many = validate_layer("industrial_plots", plots(300, seed=3))
    any_store.write("industrial_plots", many)
    box = (119.95, 31.65, 120.0, 31.7)
    got = any_store.read("industrial_plots", bbox=box)
    expected = many[many.intersects(shapely.box(*box))]  # plots are boxes: envelope = geometry
    assert 0 < len(got) < len(many)
    assert sorted(got["plot_id"]) == sorted(expected["plot_id"])
    with pytest.raises(InputError, match="bbox must be"):
        any_store.read("industrial_plots", bbox=(120, 31, 119, 32))


def test_columns_and_where(plotted):
    got = plotted.read("industrial_plots", columns=["plot_id", "workers"])
    assert got.columns.tolist() == ["plot_id", "workers", "geometry"] and str(got["workers"].dtype) == "Int64"
    assert plotted.read("industrial_plots", columns=[]).columns.tolist() == ["geometry"]
    assert plotted.read("industrial_plots", where={"plot_id": "P002"})["plot_id"].tolist() == ["P002"]
    assert sorted(plotted.read("industrial_plots", where={"plot_id": ["P001", "P004", "P999"]})["plot_id"]) == \
        ["P001", "P004"]
    assert len(plotted.read("industrial_plots", where={"contact": None})) == 5
    assert len(plotted.read("industrial_plots", where={"generated": True, "plot_id": "P003"})) == 1
    with pytest.raises(InputError, match="no column.*nope"):
        plotted.read("industrial_plots", columns=["nope"])
    with pytest.raises(InputError, match="no column 'nope'"):
        plotted.read("industrial_plots", where={"nope": 1})
    with pytest.raises(InputError, match="workers.*not an integer"):
        plotted.read("industrial_plots", where={"workers": "many"})


def test_reading_an_absent_layer_lists_the_held_ones(plotted):
    with pytest.raises(LayerNotFound, match="'shelters'.*industrial_plots"):
        plotted.read("shelters")
    assert not plotted.exists("shelters") and plotted.exists("industrial_plots")
    with pytest.raises(LayerNotFound):
        plotted.info("shelters")


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "frame, error, match",
    [
        (lambda: plots(2).to_crs("EPSG:4549"), CRSError, "EPSG:4549.*EPSG:4490"),
        (lambda: plots(2).set_crs(None, allow_override=True), CRSError, "no CRS"),
        (lambda: pd.DataFrame({"a": [1]}), InputError, "expected a GeoDataFrame"),
        (lambda: plots(2).assign(row_version=1), InputError, "row_version"),
        (lambda: plots(2).assign(plot_id="P1"), ValidationError, "id is used by 2 rows"),
    ],
    ids=["metric-crs", "no-crs", "plain-frame", "reserved-column", "repeated-id"],
)
def test_unstorable_frames_are_refused_before_writing(plotted, frame, error, match):
    before = _state(plotted)
    with pytest.raises(error, match=match):
        plotted.write("industrial_plots", frame())
    assert _state(plotted) == before


@pytest.mark.parametrize("name", ["Plots", "riskmap_layers", "gpkg_contents", "1plots", "a b", ""])
def test_bad_layer_names(any_store, name):
    with pytest.raises(InputError, match="invalid layer name"):
        any_store.write(name, plots(1))


def test_write_many_is_all_or_nothing(plotted, backend, monkeypatch):
    before = _state(plotted)
    frame = plotted.read("industrial_plots")[["plot_id", "geometry"]]
    with pytest.raises(CRSError):
        plotted.write_many({"safety_buffers": frame, "risk_zones": frame.to_crs("EPSG:4549")})
    assert _state(plotted) == before
    original, calls = TRANSACTIONS[backend].replace, []

    def fail_on_second(self, rows, system):
        calls.append(rows.name)
        original(self, rows, system)
        if len(calls) == 2:
            raise RuntimeError("disk full on the second layer")

    monkeypatch.setattr(TRANSACTIONS[backend], "replace", fail_on_second)
    with pytest.raises(StoreError, match="left unchanged.*disk full"):
        plotted.write_many({"safety_buffers": frame, "risk_zones": frame}, derived=True)
    monkeypatch.undo()
    assert _state(plotted) == before and not plotted.exists("safety_buffers")
    assert plotted.read("industrial_plots")["plot_id"].tolist() == frame["plot_id"].tolist()


def test_a_raster_name_is_not_a_vector_name(plotted):
    plotted.write_raster("population", np.ones((2, 2), "float32"),
                         {"crs": "EPSG:4549", "transform": Affine(100, 0, 5e5, 0, -100, 3.5e6)})
    before = _state(plotted)
    with pytest.raises(StoreError, match="is a raster layer"):
        plotted.write("population", plotted.read("industrial_plots"))
    with pytest.raises(StoreError, match="is a vector layer"):
        plotted.write_raster("industrial_plots", np.ones((2, 2), "float32"),
                             {"crs": "EPSG:4549", "transform": Affine(100, 0, 5e5, 0, -100, 3.5e6)})
    with pytest.raises(StoreError, match="is a raster"):
        plotted.read("population")
    assert _state(plotted) == before


# ---------------------------------------------------------------------------- row versions
def test_a_reimport_carries_row_versions_and_retires_what_is_gone(plotted):
    again = validate_layer("industrial_plots", plots(6)).iloc[[0, 1, 2, 3, 5]]  # P005 gone, P006 new
    again = again.assign(workers=7)
    plotted.write("industrial_plots", again, actor="second-import")
    live = plotted.read("industrial_plots", versions=True).set_index("plot_id")
    assert live["row_version"].to_dict() == {"P001": 2, "P002": 2, "P003": 2, "P004": 2, "P006": 1}
    assert set(live["updated_by"]) == {"second-import"}
    info = plotted.info("industrial_plots")
    assert (info.rows, info.retired, info.version) == (5, 1, 2)
    everything = plotted.read("industrial_plots", include_retired=True).set_index("plot_id")
    assert everything.loc["P005", "retired_by"] == "second-import" and everything.loc["P005", "row_version"] == 2
    assert pd.isna(everything.loc["P001", "retired_at"]) and len(everything) == 6
    original = validate_layer("industrial_plots", plots(5)).iloc[[4]]
    assert everything.loc["P005", "workers"] == original["workers"].iloc[0]  # kept as it was
    assert everything.loc["P005", "geometry"].equals_exact(original.geometry.iloc[0], 0)
    back = plotted.write("industrial_plots", validate_layer("industrial_plots", plots(5)), actor="third")
    assert (back.rows, back.retired) == (5, 1)  # P006 retired now; P005 revived
    assert plotted.read("industrial_plots", versions=True).set_index("plot_id")["row_version"]["P005"] == 3


# ---------------------------------------------------------------------------- edits
def test_an_edit_inserts_updates_retires_and_revives_in_one_transaction(plotted):
    rows = plotted.read("industrial_plots", where={"plot_id": ["P001", "P002"]})
    changed = rows.assign(workers=[11, 22])
    changed.loc[1, "geometry"] = shapely.box(119.95, 31.70, 119.951, 31.701)
    new = validate_layer("industrial_plots", plots(7)).iloc[[6]]  # P007
    result = plotted.edit("industrial_plots", pd.concat([changed, new], ignore_index=True), ["P003"],
                          {"P001": 1, "P002": 1, "P003": 1}, actor="alice", reason="survey 2026-11")
    assert isinstance(result, EditResult)
    assert (result.updated, result.inserted, result.retired, result.version) == \
        (("P001", "P002"), ("P007",), ("P003",), 2)
    assert result.versions == {"P001": 2, "P002": 2, "P007": 1, "P003": 2}
    live = plotted.read("industrial_plots", versions=True).set_index("plot_id")
    assert sorted(live.index) == ["P001", "P002", "P004", "P005", "P007"]
    assert live.loc["P002", "workers"] == 22 and live.loc["P002", "updated_by"] == "alice"
    assert live.loc["P004", "updated_by"] == "importer" and live.loc["P004", "row_version"] == 1
    assert plotted.read("industrial_plots", bbox=(119.9502, 31.7002, 119.9505, 31.7005))["plot_id"].tolist() == \
        ["P002"]  # the spatial index follows the moved plot
    info = plotted.info("industrial_plots")
    assert (info.version, info.rows, info.retired) == (2, 5, 1)
    log = plotted.audit(layer="industrial_plots", limit=4).set_index("feature")
    assert set(log.index) == {"P001", "P002", "P007", "P003"} and set(log["detail"]) == {"survey 2026-11"}
    assert log.loc["P001", "action"] == "update"
    assert (log.loc["P001", "before"]["workers"], log.loc["P001", "after"]["workers"]) == \
        (int(rows["workers"].iloc[0]), 11)
    assert log.loc["P001", "before"]["row_version"] == 1 and log.loc["P001", "after"]["row_version"] == 2
    assert shapely.from_wkt(log.loc["P002", "after"]["geometry"]).equals_exact(
        shapely.box(119.95, 31.70, 119.951, 31.701), 0)
    assert log.loc["P007", "before"] is None and log.loc["P007", "action"] == "insert"
    assert log.loc["P003", "after"] is None and log.loc["P003", "action"] == "retire"
    revived = plotted.read("industrial_plots", include_retired=True, where={"plot_id": "P003"})
    result = plotted.edit("industrial_plots", revived, actor="bob")  # row_version 2 is the base
    assert result.revived == ("P003",) and result.versions == {"P003": 3}
    assert plotted.info("industrial_plots").retired == 0
    assert plotted.audit(feature="P003", limit=1)["before"].iloc[0]["retired_by"] == "alice"


def test_a_stale_version_is_a_conflict_carrying_the_current_row(plotted):
    row = plotted.read("industrial_plots", where={"plot_id": "P001"})
    plotted.edit("industrial_plots", row.assign(workers=100), base_versions={"P001": 1}, actor="alice")
    before = _state(plotted)
    with pytest.raises(Conflict) as caught:
        plotted.edit("industrial_plots", row.assign(workers=200), base_versions={"P001": 1}, actor="bob")
    assert caught.value.stale == [("P001", 1, 2, "live")]
    current = caught.value.current
    assert current["plot_id"].tolist() == ["P001"] and current["workers"].tolist() == [100]
    assert current["row_version"].tolist() == [2] and current["updated_by"].tolist() == ["alice"]
    assert "P001: you had version 1, it is at version 2" in str(caught.value)
    assert _state(plotted) == before
    assert plotted.read("industrial_plots", where={"plot_id": "P001"})["workers"].tolist() == [100]


def test_conflicts_on_new_rows_and_retirements(plotted):
    before = _state(plotted)
    existing = plotted.read("industrial_plots", where={"plot_id": "P002"})
    with pytest.raises(Conflict) as caught:
        plotted.edit("industrial_plots", existing, actor="carol")  # no base: meant as new, but it exists
    assert caught.value.stale == [("P002", None, 1, "live")]
    with pytest.raises(Conflict):
        plotted.edit("industrial_plots", retirements=["P002"], actor="carol")  # no base version
    plotted.edit("industrial_plots", retirements=["P002"], base_versions={"P002": 1}, actor="carol")
    with pytest.raises(Conflict) as caught:
        plotted.edit("industrial_plots", retirements=["P002"], base_versions={"P002": 2}, actor="dan")
    assert caught.value.stale == [("P002", 2, 2, "retired")]
    assert caught.value.current["retired_by"].tolist() == ["carol"]
    with pytest.raises(InputError, match="no row 'P404' to retire"):
        plotted.edit("industrial_plots", retirements=["P404"], base_versions={"P404": 1}, actor="dan")
    assert _state(plotted)[0] != before[0]  # only carol's retirement went through
    assert plotted.info("industrial_plots").version == 2


def test_edit_refusals_write_nothing(plotted):
    plotted.write("risk_zones", plotted.read("industrial_plots")[["plot_id", "geometry"]])  # no id field
    before = _state(plotted)
    with pytest.raises(InputError, match="no id field"):
        plotted.edit("risk_zones", retirements=["P001"], actor="alice")
    bad = plotted.read("industrial_plots", where={"plot_id": "P001"})
    bad["workers"] = bad["workers"].astype(object)
    bad.loc[0, "workers"] = "many"
    with pytest.raises(ValidationError, match="P001: workers: 'many' is not an integer"):
        plotted.edit("industrial_plots", bad, base_versions={"P001": 1}, actor="alice")
    with pytest.raises(ValidationError, match="P001: land_use: 'castle' is not one of"):  # the caller's rules
        validate_layer("industrial_plots", bad.assign(workers=3, land_use="castle"))
    row = plotted.read("industrial_plots", where={"plot_id": "P001"})
    with pytest.raises(InputError, match="both upserted and retired"):
        plotted.edit("industrial_plots", row, ["P001"], {"P001": 1}, actor="alice")
    with pytest.raises(InputError, match="nothing to edit"):
        plotted.edit("industrial_plots", actor="alice")
    with pytest.raises(InputError, match="who edits"):
        plotted.edit("industrial_plots", row, base_versions={"P001": 1}, actor="")
    assert _state(plotted) == before


def test_an_edit_of_a_layer_outside_the_catalogue_checks_its_columns(any_store):
    frame = stations(3)[["station_id", "geometry"]].assign(count=[1, 2, 3])
    any_store.write("coverage_gaps", frame, id_field="station_id")
    with pytest.raises(InputError, match="missing: count"):
        any_store.edit("coverage_gaps", frame.drop(columns="count").iloc[:1], base_versions={"F1": 1}, actor="a")
    with pytest.raises(ValidationError, match="F1: count: 'x' is not an integer"):
        any_store.edit("coverage_gaps", frame.iloc[:1].assign(count="x"), base_versions={"F1": 1}, actor="a")
    result = any_store.edit("coverage_gaps", frame.iloc[:1].assign(count=9), base_versions={"F1": 1}, actor="a")
    assert result.versions == {"F1": 2} and any_store.read("coverage_gaps")["count"].tolist() == [9, 2, 3]


# ---------------------------------------------------------------------------- rasters
def test_rasters_round_trip_exactly(any_store, tmp_path):
    levels = (np.arange(300 * 280).reshape(300, 280) % 5).astype("uint8")
    colormap = {0: (0, 0, 0, 0), 1: (215, 25, 28, 255), 2: (253, 174, 97, 255), 3: (44, 123, 182, 255),
                4: (26, 150, 65, 255)}
    profile = {"crs": "EPSG:4549", "transform": Affine(100, 0, 500000, 0, -100, 3520000), "nodata": 0,
               "colormap": colormap, "tags": {"palette": "wall"}, "description": "risk level"}
    info = any_store.write_raster("risk_surface", levels, profile, ruleset_version="r1")
    assert (info.kind, info.version, info.crs, info.rows) == ("raster", 1, "EPSG:4549", 0)
    with any_store.read_raster("risk_surface") as src:
        assert src.read(1).dtype == np.uint8 and np.array_equal(src.read(1), levels)
        assert src.crs.to_epsg() == 4549 and src.transform == profile["transform"] and src.nodata == 0
        assert src.colormap(1)[1] == (215, 25, 28, 255) and src.tags()["palette"] == "wall"
        assert src.descriptions == ("risk level",)
    people = np.random.default_rng(1).gamma(2, 30, (257, 513)).astype("float32")
    people[:, :40] = -9999.0
    any_store.write_raster("population", people, {"crs": "EPSG:4549", "nodata": -9999.0,
                                                   "transform": Affine(100, 0, 4e5, 0, -100, 3.55e6)}, derived=False)
    with any_store.read_raster("population") as src:
        assert src.dtypes == ("float32",) and np.array_equal(src.read(1), people) and src.nodata == -9999.0
    second = any_store.write_raster("risk_surface", levels[::-1].copy(), profile)
    assert second.version == 2 and any_store.info("risk_surface").version == 2
    with any_store.read_raster("risk_surface") as src:
        assert np.array_equal(src.read(1), levels[::-1])
    assert any_store.audit(layer="risk_surface")["version"].tolist() == [2, 1]


def test_raster_refusals(any_store, tmp_path):
    not_tiff = tmp_path / "x.tif"
    not_tiff.write_text("hello")
    with pytest.raises(InputError, match="not a GeoTIFF"):
        any_store.write_raster("population", not_tiff)
    with pytest.raises(InputError, match="no such raster"):
        any_store.write_raster("population", tmp_path / "missing.tif")
    with pytest.raises(InputError, match="dtype int64 is not stored"):
        any_store.write_raster("population", np.ones((2, 2), "int64"),
                               {"crs": "EPSG:4549", "transform": Affine(1, 0, 0, 0, -1, 0)})
    with pytest.raises(InputError, match="crs and transform"):
        any_store.write_raster("population", np.ones((2, 2), "float32"), {})
    assert any_store.layers() == []


# ---------------------------------------------------------------------------- audit, check
def test_audit_filters(plotted):
    row = plotted.read("industrial_plots", where={"plot_id": "P004"})
    plotted.edit("industrial_plots", row.assign(workers=1), base_versions={"P004": 1}, actor="alice")
    stamp = plotted.audit(limit=1)["when"].iloc[0]
    plotted.edit("industrial_plots", row.assign(workers=2), base_versions={"P004": 2}, actor="bob")
    plotted.write("rescue_stations", validate_layer("rescue_stations", stations(2)), actor="importer")
    assert plotted.audit(feature="P004")["actor"].tolist() == ["bob", "alice"]
    assert plotted.audit(layer="rescue_stations")["action"].tolist() == ["import"]
    assert plotted.audit(since=stamp)["actor"].tolist() == ["importer", "bob", "alice"]
    assert len(plotted.audit(limit=None)) == 4 and len(plotted.audit(limit=0)) == 0
    ids = plotted.audit(limit=None)["id"].tolist()
    assert ids == sorted(ids, reverse=True)
    json.dumps(plotted.audit(limit=None)[["before", "after"]].to_dict("records"))  # JSON all the way


def test_a_healthy_store_passes_its_checks(plotted):
    plotted.write_raster("population", np.ones((3, 3), "float32"),
                         {"crs": "EPSG:4549", "transform": Affine(100, 0, 5e5, 0, -100, 3.5e6)})
    assert plotted.check() == [] and plotted.check(full=True) == []


# ---------------------------------------------------------------------------- many hands
def race_edits(address: str, edits: list[tuple[str, int]]) -> list[tuple]:
    """Edit from base version 1 in one process per ``(plot id, workers)``, all released at once;
    each process's outcome ``(status, plot id, version, stale)``, sorted."""
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    procs = [context.Process(target=edit_workers, args=(address, feature, workers, 1, start, results))
             for feature, workers in edits]
    for p in procs:
        p.start()
    start.set()
    got = sorted(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
    return got


def test_two_processes_editing_different_rows_both_succeed(plotted):
    got = race_edits(plotted.address, [("P001", 101), ("P002", 202)])
    assert [(status, feature, version) for status, feature, version, _ in got] == \
        [("ok", "P001", 2), ("ok", "P002", 2)]
    live = plotted.read("industrial_plots").set_index("plot_id")["workers"]
    assert (live["P001"], live["P002"]) == (101, 202) and plotted.info("industrial_plots").version == 3


def test_two_processes_editing_the_same_row_one_gets_the_conflict(plotted):
    (status_a, _, version_a, stale), (status_b, _, version_b, _) = race_edits(plotted.address,
                                                                              [("P001", 101), ("P001", 202)])
    assert (status_a, version_a, stale) == ("conflict", 2, [("P001", 1, 2, "live")]) and \
        (status_b, version_b) == ("ok", 2)
    winner = plotted.read("industrial_plots", where={"plot_id": "P001"}, versions=True)
    assert winner["row_version"].tolist() == [2] and winner["workers"].iloc[0] in (101, 202)
    assert plotted.info("industrial_plots").version == 2
    assert len(plotted.audit(feature="P001")) == 1


def test_a_reader_sees_one_committed_state_or_the_next_never_half(any_store):
    from store_workers import grid

    n = 3000
    any_store.write("cells", grid(n, 1), id_field="cell_id")
    context = multiprocessing.get_context("fork")
    done, results = context.Event(), context.Queue()
    writer = context.Process(target=rewrite, args=(any_store.address, n, 6, done))
    reader = context.Process(target=read_while, args=(any_store.address, n, done, results))
    reader.start()
    writer.start()
    seen = results.get(timeout=300)
    writer.join(120)
    reader.join(60)
    assert writer.exitcode == 0
    assert seen and all(state in ((n, (1,)), (n, (2,))) for state in seen), set(seen)
    assert any_store.info("cells").version == 7
