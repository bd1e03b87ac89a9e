"""The GeoPackage store: opening, round trips, versions, audit, bbox reads, atomic writes, locks."""

from __future__ import annotations

import fcntl
import sqlite3
import threading

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import layers.gpkg as gpkg
from geo.errors import CRSError, InputError
from layers.errors import LayerNotFound, StoreError
from layers.gpkg import GeoPackageStore
from layers.store import AUDIT_COLUMNS, LayerInfo, Store
from layers.validate import validate_layer
from layers_common import plots, sha256, stations


# ---------------------------------------------------------------------------- opening
def test_create_makes_an_empty_geopackage(tmp_path):
    path = tmp_path / "new.gpkg"
    store = GeoPackageStore.create(path)
    assert isinstance(store, Store)
    assert store.layers() == []
    assert store.audit().columns.tolist() == list(AUDIT_COLUMNS)
    # GDAL sees a GeoPackage whose only tables are riskmap's two attributes tables
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["riskmap_audit", "riskmap_layers"]
    assert not list(tmp_path.glob(".*tmp*"))


def test_create_refuses_an_existing_file(tmp_path):
    path = tmp_path / "city.gpkg"
    GeoPackageStore.create(path)
    with pytest.raises(StoreError, match="already exists"):
        GeoPackageStore.create(path)


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "no such store"),
        (b"", "not a GeoPackage"),
        (b"plot_id,lon,lat\nP1,119.9,31.7\n" * 10, "not a GeoPackage"),
        ("sqlite", "not a GeoPackage"),
        ("plain-gpkg", "not a riskmap store"),
    ],
    ids=["missing", "empty-file", "csv-file", "plain-sqlite", "foreign-geopackage"],
)
def test_opening_something_else_names_the_path(tmp_path, content, reason):
    path = tmp_path / "thing.gpkg"
    if content == "sqlite":
        con = sqlite3.connect(path)
        con.execute("create table t (x)")
        con.commit()
        con.close()
    elif content == "plain-gpkg":
        plots(2).to_file(path, layer="plots")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(StoreError, match=reason) as caught:
        GeoPackageStore(path)
    assert str(path) in str(caught.value)


def test_open_with_create(tmp_path):
    path = tmp_path / "city.gpkg"
    GeoPackageStore.open(path, create=True)
    assert GeoPackageStore.open(path).layers() == []


# ---------------------------------------------------------------------------- round trips
def test_round_trip_keeps_values_and_dtypes(store):
    clean = validate_layer("industrial_plots", plots(5))
    clean.loc[2, "workers"] = pd.NA
    clean.loc[1, "key_process"] = pd.NA
    store.write("industrial_plots", clean)
    back = store.read("industrial_plots")
    assert back.crs == "EPSG:4490"
    assert back.columns.tolist() == clean.columns.tolist()
    for column in clean.columns.drop("geometry"):
        assert str(back[column].dtype) == str(clean[column].dtype), column
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(clean.drop(columns="geometry")))
    assert back.geometry.geom_equals_exact(clean.geometry, tolerance=1e-12).all()


def test_versions_info_and_audit(store):
    first = store.write("industrial_plots", validate_layer("industrial_plots", plots(3)),
                        actor="planner", detail="first")
    second = store.write("industrial_plots", validate_layer("industrial_plots", plots(4)),
                         actor="planner", detail="second")
    assert (first.version, second.version) == (1, 2)
    info = store.info("industrial_plots")
    assert isinstance(info, LayerInfo)
    assert (info.rows, info.version, info.derived, info.crs, info.kind) == (4, 2, False, "EPSG:4490", "vector")
    assert info.updated_at.endswith("+00:00")
    log = store.audit()
    assert log["detail"].tolist() == ["second", "first"]
    assert log["rows"].tolist() == [4, 3]
    assert set(log["actor"]) == {"planner"}
    assert len(store.audit(limit=1)) == 1


def test_derived_layers_carry_provenance(seeded_store):
    buffers = seeded_store.read("industrial_plots")[["plot_id", "geometry"]]
    infos = seeded_store.write_many({"safety_buffers": buffers, "risk_zones": buffers.iloc[:2]},
                                    derived=True, ruleset_version="jiangsu-2024.1",
                                    fingerprint="abc123", actor="engine", action="derive")
    assert set(infos) == {"safety_buffers", "risk_zones"}
    info = seeded_store.info("risk_zones")
    assert (info.derived, info.ruleset_version, info.fingerprint, info.rows) == (True, "jiangsu-2024.1", "abc123", 2)
    assert seeded_store.layers() == ["industrial_plots", "rescue_stations", "risk_zones", "safety_buffers"]
    assert seeded_store.audit(limit=2)["action"].tolist() == ["derive", "derive"]


def test_lists_and_dicts_are_stored_as_json_text(store):
    frame = stations(2)[["station_id", "geometry"]].assign(reasons=[["a", "b"], {"k": 1}])
    store.write("coverage_gaps", frame)
    assert store.read("coverage_gaps")["reasons"].tolist() == ['["a", "b"]', '{"k": 1}']


def test_empty_derived_layer_can_be_written(store):
    empty = stations(1).iloc[:0][["station_id", "geometry"]]
    assert store.write("separation_violations", empty).rows == 0
    assert len(store.read("separation_violations")) == 0


# ---------------------------------------------------------------------------- reads
def test_bbox_read_uses_the_spatial_index(store):
    many = validate_layer("industrial_plots", plots(200, seed=3))
    store.write("industrial_plots", many)
    with sqlite3.connect(store.path) as con:
        tables = {row[0] for row in con.execute("select name from sqlite_master where type='table'")}
    assert "rtree_industrial_plots_geom" in tables
    box = (119.95, 31.65, 120.0, 31.7)
    got = store.read("industrial_plots", bbox=box)
    expected = many[many.intersects(shapely.box(*box))]  # plots are boxes: envelope = geometry
    assert 0 < len(got) < len(many)
    assert set(got["plot_id"]) == set(expected["plot_id"])


def test_column_selection(seeded_store):
    got = seeded_store.read("rescue_stations", columns=["station_id", "staff"])
    assert got.columns.tolist() == ["station_id", "staff", "geometry"]
    assert str(got["staff"].dtype) == "Int64"
    with pytest.raises(InputError, match="no column.*nope"):
        seeded_store.read("rescue_stations", columns=["nope"])


def test_reading_an_absent_layer_lists_the_held_ones(seeded_store):
    with pytest.raises(LayerNotFound, match="'shelters'.*industrial_plots, rescue_stations"):
        seeded_store.read("shelters")
    assert not seeded_store.exists("shelters")
    assert seeded_store.exists("rescue_stations")
    with pytest.raises(LayerNotFound):
        seeded_store.info("shelters")


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "frame, error, match",
    [
        (lambda: plots(2).to_crs("EPSG:4549"), CRSError, "EPSG:4549.*EPSG:4490"),
        (lambda: plots(2).set_crs(None, allow_override=True), CRSError, "no CRS"),
        (lambda: pd.DataFrame({"a": [1]}), InputError, "expected a GeoDataFrame"),
    ],
    ids=["metric-crs", "no-crs", "plain-frame"],
)
def test_unstorable_frames_are_refused_before_writing(seeded_store, frame, error, match):
    before = sha256(seeded_store.path)
    with pytest.raises(error, match=match):
        seeded_store.write("industrial_plots", frame())
    assert sha256(seeded_store.path) == before


@pytest.mark.parametrize("name", ["Plots", "riskmap_layers", "gpkg_contents", "1plots", "a b", ""])
def test_bad_layer_names(store, name):
    with pytest.raises(InputError, match="invalid layer name"):
        store.write(name, plots(1))


# ---------------------------------------------------------------------------- atomicity
def _leftovers(store):
    return [p.name for p in store.path.parent.iterdir() if ".tmp" in p.name]


def test_failure_after_writing_a_layer_leaves_the_store_unchanged(seeded_store, monkeypatch):
    original = gpkg._write_layer_file

    def write_then_fail(path, name, frame):
        original(path, name, frame)
        raise RuntimeError("disk full")

    monkeypatch.setattr(gpkg, "_write_layer_file", write_then_fail)
    before = sha256(seeded_store.path)
    with pytest.raises(StoreError, match="disk full.*|write failed") as caught:
        seeded_store.write("industrial_plots", validate_layer("industrial_plots", plots(9)))
    assert "unchanged" in str(caught.value)
    assert sha256(seeded_store.path) == before
    assert not _leftovers(seeded_store)
    monkeypatch.undo()
    assert seeded_store.info("industrial_plots").rows == 5


def test_failure_after_the_metadata_commit_leaves_the_store_unchanged(seeded_store, monkeypatch):
    original = gpkg._commit_metadata

    def commit_then_fail(path, entries, audit):
        original(path, entries, audit)
        raise OSError("killed")

    monkeypatch.setattr(gpkg, "_commit_metadata", commit_then_fail)
    before = sha256(seeded_store.path)
    with pytest.raises(StoreError):
        seeded_store.write("industrial_plots", validate_layer("industrial_plots", plots(9)))
    assert sha256(seeded_store.path) == before
    assert not _leftovers(seeded_store)


def test_failure_of_the_final_rename_leaves_the_store_unchanged(seeded_store, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(gpkg.os, "replace", refuse)
    before = sha256(seeded_store.path)
    with pytest.raises(StoreError, match="read-only folder"):
        seeded_store.write("industrial_plots", validate_layer("industrial_plots", plots(9)))
    monkeypatch.undo()
    assert sha256(seeded_store.path) == before
    assert not _leftovers(seeded_store)


def test_write_many_is_all_or_nothing(seeded_store, monkeypatch):
    original, calls = gpkg._write_layer_file, []

    def fail_on_second(path, name, frame):
        calls.append(name)
        if len(calls) == 2:
            raise RuntimeError("GDAL error on the second layer")
        original(path, name, frame)

    monkeypatch.setattr(gpkg, "_write_layer_file", fail_on_second)
    before = sha256(seeded_store.path)
    frame = seeded_store.read("industrial_plots")[["plot_id", "geometry"]]
    with pytest.raises(StoreError):
        seeded_store.write_many({"safety_buffers": frame, "risk_zones": frame}, derived=True)
    assert sha256(seeded_store.path) == before
    assert not seeded_store.exists("safety_buffers")


def test_write_many_checks_every_frame_first(seeded_store):
    before = sha256(seeded_store.path)
    good = seeded_store.read("industrial_plots")
    with pytest.raises(CRSError):
        seeded_store.write_many({"safety_buffers": good, "risk_zones": good.to_crs("EPSG:4549")})
    assert sha256(seeded_store.path) == before


# ---------------------------------------------------------------------------- concurrency
def test_concurrent_writers_are_serialised(store):
    frames = {name: validate_layer("rescue_stations", stations(2))[["station_id", "geometry"]]
              for name in ("layer_a", "layer_b", "layer_c")}
    errors = []

    def writer(name):
        try:
            for _ in range(4):
                GeoPackageStore(store.path).write(name, frames[name])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # with lost updates some layer would be missing or a version skipped
    assert [store.info(name).version for name in frames] == [4, 4, 4]
    assert len(store.audit()) == 12


def test_a_held_lock_times_out_with_a_clear_error(store):
    impatient = GeoPackageStore(store.path, lock_timeout=0.2)
    with open(impatient.lock_path, "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="locked by another writer"):
            impatient.write("rescue_stations", validate_layer("rescue_stations", stations(1)))
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------- rasters
def _geotiff(path, value: float):
    import rasterio
    from affine import Affine

    data = np.full((4, 5), value, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=5, height=4, count=1, dtype="float32",
                       crs="EPSG:4549", transform=Affine(100, 0, 500000, 0, -100, 3520000)) as dst:
        dst.write(data, 1)
    return path


def test_rasters_live_beside_the_store(store, tmp_path):
    first = store.write_raster("risk_surface", _geotiff(tmp_path / "a.tif", 1.0), ruleset_version="r1")
    assert (first.kind, first.version, first.crs) == ("raster", 1, "EPSG:4549")
    path1 = store.raster_path("risk_surface")
    assert path1.parent == tmp_path / "city.gpkg.rasters" and path1.exists()
    second = store.write_raster("risk_surface", _geotiff(tmp_path / "b.tif", 2.0))
    path2 = store.raster_path("risk_surface")
    assert second.version == 2 and path2.exists() and not path1.exists()
    assert store.info("risk_surface").kind == "raster"
    assert "risk_surface" in store.layers()
    with pytest.raises(StoreError, match="is a raster"):
        store.read("risk_surface")


def test_raster_refusals(seeded_store, tmp_path):
    not_tiff = tmp_path / "x.tif"
    not_tiff.write_text("hello")
    with pytest.raises(InputError, match="not a GeoTIFF"):
        seeded_store.write_raster("population", not_tiff)
    with pytest.raises(InputError, match="no such raster"):
        seeded_store.write_raster("population", tmp_path / "missing.tif")
    with pytest.raises(StoreError, match="is a vector layer"):
        seeded_store.raster_path("industrial_plots")
    before = sha256(seeded_store.path)
    with pytest.raises(StoreError, match="is a vector layer"):
        seeded_store.write_raster("industrial_plots", _geotiff(tmp_path / "c.tif", 1.0))
    assert sha256(seeded_store.path) == before
    assert not seeded_store.rasters_dir.exists() or not list(seeded_store.rasters_dir.iterdir())
    seeded_store.write_raster("population", _geotiff(tmp_path / "d.tif", 1.0))
    before = sha256(seeded_store.path)
    with pytest.raises(StoreError, match="is a raster layer"):
        seeded_store.write("population", seeded_store.read("rescue_stations"))
    assert sha256(seeded_store.path) == before


def test_a_raster_is_as_readable_as_the_store(tmp_path):
    """mkstemp creates 0600 files; a server running as another user must still read the raster."""
    import os
    import stat

    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from layers.gpkg import GeoPackageStore

    store = GeoPackageStore.create(tmp_path / "s.gpkg")
    os.chmod(store.path, 0o644)
    tif = tmp_path / "r.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8", crs="EPSG:4549",
                       transform=from_origin(500000, 3500000, 100, 100)) as dst:
        dst.write(np.ones((1, 2, 2), dtype="uint8"))
    store.write_raster("population", tif)
    assert stat.S_IMODE(os.stat(store.raster_path("population")).st_mode) == 0o644
