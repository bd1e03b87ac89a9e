"""The GeoPackage store itself: one file, written in place, readable by GDAL, checked on open.

What every backend must do is in test_store_contract.py; here is what is particular to the file:
its layout, in-place WAL transactions (no copy, nothing left behind, even when killed), the R-tree
kept as GDAL keeps it, rasters inside, older stores upgraded, and damaged files refused.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sqlite3
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine

import layers.gpkg_check as gpkg_check
from layers.gpkg_write import GpkgTransaction
from layers.errors import LayerNotFound, StoreError
from layers.gpkg import GeoPackageStore
from layers.store import AUDIT_COLUMNS, SYSTEM_COLUMNS, Store, create_store, open_store
from layers.validate import validate_layer
from layers_common import plots, sha256, stations
from legacy_store import build_legacy_store
from store_damage import damage_table, synthetic_roads


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "city.gpkg")


# ---------------------------------------------------------------------------- the file
def test_create_makes_an_empty_geopackage(tmp_path):
    path = tmp_path / "city.gpkg"
    store = create_store(path)
    assert isinstance(store, Store) and isinstance(store, GeoPackageStore)
    assert store.layers() == [] and store.audit().columns.tolist() == list(AUDIT_COLUMNS)
    # GDAL sees a GeoPackage whose only tables are riskmap's three attributes tables
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["riskmap_audit", "riskmap_layers", "riskmap_retired"]
    with open(path, "rb") as fh:
        header = fh.read(100)
    assert header[68:72] == b"GPKG" and header[18:20] == b"\x02\x02"  # application id; WAL mode
    store.close()
    assert _leftovers(tmp_path) == []


def test_create_refuses_an_existing_file(tmp_path):
    create_store(tmp_path / "city.gpkg")
    with pytest.raises(StoreError, match="already exists"):
        create_store(tmp_path / "city.gpkg")


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
        with contextlib.closing(sqlite3.connect(path)) as con:
            con.execute("create table t (x)")
            con.commit()
    elif content == "plain-gpkg":
        plots(2).to_file(path, layer="plots")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(StoreError, match=reason) as caught:
        open_store(path)
    assert str(path) in str(caught.value)


def test_open_with_create(tmp_path):
    store = open_store(tmp_path / "city.gpkg", create=True)
    assert store.created and open_store(tmp_path / "city.gpkg").layers() == []
    assert not open_store(tmp_path / "city.gpkg", create=True).created


# ---------------------------------------------------------------------------- in place
def test_writes_and_edits_change_the_file_in_place_and_leave_nothing_beside_it(seeded_store, tmp_path):
    path = tmp_path / "city.gpkg"
    inode = path.stat().st_ino
    seeded_store.write("industrial_plots", validate_layer("industrial_plots", plots(7)))
    row = seeded_store.read("industrial_plots", where={"plot_id": "P001"}, versions=True)
    seeded_store.edit("industrial_plots", row.assign(workers=5), actor="alice")
    assert path.stat().st_ino == inode  # the same file, never a copy moved over it
    wal = tmp_path / "city.gpkg-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed: the file alone is complete
    copy = tmp_path / "copy" / "city.gpkg"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())  # copied while the store is still open
    assert open_store(copy).read("industrial_plots", where={"plot_id": "P001"})["workers"].tolist() == [5]
    seeded_store.close()
    assert _leftovers(tmp_path) == ["copy"]


def test_a_failure_inside_the_transaction_leaves_the_file_byte_for_byte(seeded_store, tmp_path, monkeypatch):
    original = GpkgTransaction.replace

    def write_then_fail(self, rows, system):
        original(self, rows, system)
        raise RuntimeError("disk full")

    monkeypatch.setattr(GpkgTransaction, "replace", write_then_fail)
    before = sha256(seeded_store.address)
    with pytest.raises(StoreError, match="store left unchanged.*disk full"):
        seeded_store.write("industrial_plots", validate_layer("industrial_plots", plots(9)))
    seeded_store.close()
    assert sha256(seeded_store.address) == before and _leftovers(tmp_path) == []
    monkeypatch.undo()
    assert open_store(seeded_store.address).info("industrial_plots").rows == 5


def _killed_writer(address: str) -> None:
    """Start an edit and die inside its transaction, as a killed process would (no cleanup at all)."""
    original = GpkgTransaction.update

    def update_then_die(self, rows, system):
        original(self, rows, system)
        os._exit(9)

    GpkgTransaction.update = update_then_die
    store = open_store(address)
    row = store.read("industrial_plots", where={"plot_id": "P001"})
    store.edit("industrial_plots", row.assign(workers=999_999), base_versions={"P001": 1}, actor="doomed")


def test_a_killed_writer_leaves_the_store_as_it_was(seeded_store, tmp_path):
    before = seeded_store.read("industrial_plots")
    seeded_store.close()
    process = multiprocessing.get_context("fork").Process(target=_killed_writer, args=(seeded_store.address,))
    process.start()
    process.join(120)
    assert process.exitcode == 9
    store = open_store(seeded_store.address)  # SQLite rolls the unfinished transaction back
    assert store.read("industrial_plots").equals(before)
    assert store.info("industrial_plots").version == 1 and store.check(full=True) == []
    store.close()
    assert _leftovers(tmp_path) == []


def test_a_writer_waits_for_another_then_gives_up_with_one_line(seeded_store):
    holder = sqlite3.connect(seeded_store.address, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer in the middle of its transaction
    impatient = GeoPackageStore(seeded_store.address, lock_timeout=0.2)
    with pytest.raises(StoreError, match="locked by another writer for more than 0 s"):
        impatient.write("rescue_stations", validate_layer("rescue_stations", stations(1)))
    holder.execute("ROLLBACK")
    holder.close()
    assert impatient.write("rescue_stations", validate_layer("rescue_stations", stations(1))).version == 2


# ---------------------------------------------------------------------------- GDAL reads it
def test_gdal_reads_the_edited_file_and_its_spatial_index(seeded_store, tmp_path):
    rows = seeded_store.read("industrial_plots", where={"plot_id": ["P001", "P002"]}, versions=True)
    moved = rows.assign(workers=[1, 2], geometry=[shapely.box(120.05, 31.75, 120.052, 31.752), rows.geometry[1]])
    new = validate_layer("industrial_plots", plots(6)).iloc[[5]]
    upserts = gpd.GeoDataFrame(pd.concat([moved.drop(columns=list(SYSTEM_COLUMNS)), new], ignore_index=True),
                               crs="EPSG:4490")
    seeded_store.edit("industrial_plots", upserts, ["P003"], {"P001": 1, "P002": 1, "P003": 1}, actor="alice")
    ours = seeded_store.read("industrial_plots").sort_values("plot_id").reset_index(drop=True)
    seeded_store.close()
    theirs = pyogrio.read_dataframe(seeded_store.address, layer="industrial_plots").sort_values("plot_id")
    assert theirs["plot_id"].tolist() == ours["plot_id"].tolist() == ["P001", "P002", "P004", "P005", "P006"]
    assert theirs["workers"].tolist() == ours["workers"].tolist()
    assert theirs.geometry.reset_index(drop=True).geom_equals_exact(ours.geometry, 0).all()
    with contextlib.closing(sqlite3.connect(seeded_store.address)) as con:  # the R-tree holds exactly each geometry's box
        fid = dict(con.execute("SELECT fid, plot_id FROM industrial_plots"))
        boxes = {fid[i]: b for i, *b in con.execute("SELECT id, minx, miny, maxx, maxy FROM rtree_industrial_plots_geom")}
    assert sorted(boxes) == sorted(fid.values()) == ours["plot_id"].tolist()
    for plot_id, geometry in zip(ours["plot_id"], ours.geometry):
        assert np.allclose(boxes[plot_id], geometry.bounds, atol=1e-5)
    # Debian's own GDAL (another build, in another process) finds the index and uses it
    index = subprocess.run(["ogrinfo", "-ro", "-q", seeded_store.address, "-sql",
                            "SELECT HasSpatialIndex('industrial_plots', 'geom')"], capture_output=True, text=True)
    assert index.returncode == 0 and "= 1" in index.stdout, index.stdout + index.stderr
    found = subprocess.run(["ogrinfo", "-ro", "-q", "-spat", "120.04", "31.74", "120.06", "31.76",
                            seeded_store.address, "industrial_plots"], capture_output=True, text=True)
    assert found.returncode == 0 and "P001" in found.stdout and "P004" not in found.stdout
    check = subprocess.run(["ogrinfo", "-ro", "-q", seeded_store.address, "-sql",
                            "SELECT count(*) FROM industrial_plots"], capture_output=True, text=True)
    assert "= 5" in check.stdout


def test_a_bulk_write_is_a_whole_geopackage_layer_with_its_r_tree(store):
    many = validate_layer("industrial_plots", plots(3000, seed=9))  # above the bulk threshold: GDAL writes rows
    store.write("industrial_plots", many)
    store.close()
    with contextlib.closing(sqlite3.connect(store.address)) as con:
        assert con.execute("SELECT rtreecheck('rtree_industrial_plots_geom')").fetchone() == ("ok",)
        rows = con.execute("SELECT t.plot_id, r.minx, r.miny, r.maxx, r.maxy FROM industrial_plots t "
                           "JOIN rtree_industrial_plots_geom r ON r.id = t.fid ORDER BY t.fid").fetchall()
        declared = dict(con.execute("SELECT name, type FROM pragma_table_info('industrial_plots')").fetchall())
    assert [r[0] for r in rows] == many["plot_id"].tolist()
    assert np.allclose(np.array([r[1:5] for r in rows]), shapely.bounds(many.geometry.values), atol=1e-5)
    assert (declared["workers"], declared["key_process"], declared["last_inspection"]) == ("INTEGER", "BOOLEAN", "DATE")
    theirs = pyogrio.read_dataframe(store.address, layer="industrial_plots")
    assert theirs["plot_id"].tolist() == many["plot_id"].tolist()
    assert theirs["last_inspection"].astype("datetime64[ms]").equals(many["last_inspection"])


def test_a_row_gdal_adds_reads_as_version_1_and_can_be_edited(seeded_store):
    """Desktop GIS edits the file with GDAL's own SQLite and triggers; the store goes on from there."""
    seeded_store.close()
    extra = validate_layer("industrial_plots", plots(8)).iloc[[7]]
    pyogrio.write_dataframe(extra, seeded_store.address, layer="industrial_plots", append=True)
    row = seeded_store.read("industrial_plots", where={"plot_id": "P008"}, versions=True)
    assert row["row_version"].tolist() == [1]
    assert seeded_store.read("industrial_plots", bbox=tuple(extra.total_bounds))["plot_id"].tolist() == ["P008"]
    assert seeded_store.edit("industrial_plots", row.assign(workers=1), actor="alice").versions == {"P008": 2}


# ---------------------------------------------------------------------------- rasters inside
def test_rasters_are_gdal_raster_tables_inside_the_file(store, tmp_path):
    levels = (np.arange(300 * 200).reshape(200, 300) % 5).astype("uint8")
    store.write_raster("risk_surface", levels, {"crs": "EPSG:4549", "nodata": 0,
                                                "transform": Affine(100, 0, 500000, 0, -100, 3520000)})
    store.close()
    assert _leftovers(tmp_path) == []  # no <store>.rasters/ folder, no lock file
    with contextlib.closing(sqlite3.connect(store.address)) as con:
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'risk_surface'").fetchone() == \
            ("2d-gridded-coverage",)
    out = tmp_path / "out.tif"
    done = subprocess.run(["gdal_translate", "-q", f"GPKG:{store.address}:risk_surface", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with rasterio.open(out) as src:  # Debian's GDAL reads the coverage (uint8 kept as 16-bit PNG tiles)
        assert np.array_equal(src.read(1), levels) and src.crs.to_epsg() == 4549
    out.unlink()


# ---------------------------------------------------------------------------- older stores
@pytest.fixture
def legacy(tmp_path):
    tif = tmp_path / "population.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=5, height=4, count=1, dtype="float32", crs="EPSG:4549",
                       transform=Affine(100, 0, 500000, 0, -100, 3520000), nodata=-9999.0) as dst:
        dst.write(np.arange(20, dtype="float32").reshape(4, 5), 1)
    (tmp_path / "old").mkdir()
    path = build_legacy_store(tmp_path / "old" / "city.gpkg",
                              {"industrial_plots": validate_layer("industrial_plots", plots(4)),
                               "rescue_stations": validate_layer("rescue_stations", stations(2))},
                              {"population": tif})
    return path


def test_an_older_store_is_read_as_it_is(legacy):
    store = open_store(legacy)
    before = sha256(legacy)
    assert store.read("industrial_plots")["plot_id"].tolist() == ["P001", "P002", "P003", "P004"]
    assert set(store.read("industrial_plots", versions=True)["row_version"]) == {1}
    with store.read_raster("population") as src:
        assert src.read(1)[3, 4] == 19 and src.nodata == -9999.0
    assert store.audit()["detail"].tolist() == ["old import", "old import"]
    store.close()
    assert sha256(legacy) == before  # reading never upgrades


def test_an_older_store_is_upgraded_by_its_first_write(legacy, caplog):
    store = open_store(legacy)
    with caplog.at_level(logging.WARNING, logger="riskmap.store"):
        store.write("shelters_gaps", stations(1)[["station_id", "geometry"]])
    assert "moved into the GeoPackage" in caplog.text and "population" in caplog.text
    assert not legacy.with_name("city.gpkg.rasters").exists()
    with store.read_raster("population") as src:
        assert src.read(1)[3, 4] == 19 and src.crs.to_epsg() == 4549
    assert store.audit(layer="population")["action"].tolist() == ["migrate"]
    assert store.info("industrial_plots").id_field == "plot_id"
    row = store.read("industrial_plots", where={"plot_id": "P002"}, versions=True)
    assert store.edit("industrial_plots", row.assign(workers=3), actor="alice").versions == {"P002": 2}
    assert store.check(full=True) == []


def test_an_older_store_without_its_raster_folder_says_so(legacy):
    import shutil

    shutil.rmtree(legacy.with_name("city.gpkg.rasters"))
    store = open_store(legacy)
    with pytest.raises(StoreError, match="registered but its file .* is missing"):
        with store.read_raster("population"):
            pass
    assert any("population" in p for p in store.check(full=True))
    with pytest.raises(StoreError, match="population.*missing"):
        store.write("shelters_gaps", stations(1)[["station_id", "geometry"]])
    with pytest.raises(LayerNotFound):
        store.info("shelters_gaps")


# ---------------------------------------------------------------------------- damage
def test_a_damaged_store_is_refused_and_left_untouched(seeded_store, tmp_path):
    seeded_store.write("roads", synthetic_roads())
    seeded_store.close()
    damage_table(seeded_store.address, "roads")
    before = sha256(seeded_store.address)
    with pytest.raises(StoreError, match=r"damaged \(.*\); refused, nothing read or written") as caught:
        open_store(seeded_store.address)
    assert "\n" not in str(caught.value) and "riskmap check --store" in str(caught.value)
    problems = GeoPackageStore(seeded_store.address, check=False).check(full=True)
    assert problems and problems[0].startswith("damaged (")
    assert sha256(seeded_store.address) == before and _leftovers(tmp_path) == []


def test_the_check_on_open_is_remembered_for_an_unchanged_file(seeded_store, tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(gpkg_check, "_CHECKED", gpkg_check._CheckedStates())
    calls = []
    original = gpkg_check.quick_check
    monkeypatch.setattr(gpkg_check, "quick_check", lambda con, required: calls.append(1) or original(con, required))
    seeded_store.close()
    old = os.stat(seeded_store.address).st_mtime - 60
    os.utime(seeded_store.address, (old, old))  # a file last changed a minute ago
    open_store(seeded_store.address).close()
    monkeypatch.setattr(gpkg_check, "_CHECKED", gpkg_check._CheckedStates())  # a new process: the cache file knows
    open_store(seeded_store.address).close()
    assert len(calls) == 1
    with open(seeded_store.address, "r+b") as fh:  # any change to the file: checked again
        fh.seek(4096 * 4)
        fh.write(np.random.default_rng(3).bytes(16 * 1024))
    with pytest.raises(StoreError):
        open_store(seeded_store.address)
    assert len(calls) == 2
