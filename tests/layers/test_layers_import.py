"""import_layer: read → reproject → validate → one atomic write; any failure leaves the store as it was."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.gpkg_write import GpkgTransaction
from geo.crs import to_store_crs
from geo.errors import CRSError, InputError, RiskmapError
from layers.errors import LayerNotFound, StoreError, ValidationError
from layers.io import ImportReport, import_layer
from layers_common import BAD_INPUTS, BOWTIE, plots, sha256, stations


@pytest.fixture
def unchanged(seeded_store):
    """Yield the seeded store; afterwards assert its file is byte-for-byte what it was."""
    before = sha256(seeded_store.address)
    yield seeded_store
    assert sha256(seeded_store.address) == before, "a failed import changed the store"
    assert seeded_store.info("industrial_plots").version == 1


# ---------------------------------------------------------------------------- success
def test_import_writes_a_new_version_and_reports(seeded_store, tmp_path):
    path = tmp_path / "plots.gpkg"
    plots(7).to_crs("EPSG:4549").to_file(path)
    phases = []
    report = import_layer(seeded_store, "industrial_plots", path, actor="planner", on_phase=phases.append)
    assert isinstance(report, ImportReport)
    assert (report.rows, report.version, report.source_crs) == (7, 2, "EPSG:4549")
    assert phases == ["read", "reproject", "validate", "write"]
    assert set(report.timings) == {"read", "reproject", "validate", "write"}
    assert "imported 7 feature(s)" in str(report)
    stored = seeded_store.read("industrial_plots")
    assert stored.geometry.geom_equals_exact(plots(7).geometry, tolerance=1e-7).all()
    entry = seeded_store.audit(limit=1).iloc[0]
    assert (entry["actor"], entry["action"], entry["layer"], entry["rows"]) == ("planner", "import",
                                                                                "industrial_plots", 7)
    assert "plots.gpkg" in entry["detail"] and "EPSG:4549" in entry["detail"]


def test_gcj02_offset_is_removed(store, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text("station_id,kind,lon,lat\nF1,micro,119.9747,31.8081\n", encoding="utf-8")
    report = import_layer(store, "rescue_stations", path, crs="gcj02")
    assert report.offset == "gcj02" and "gcj02 offset removed" in str(report)
    stored = store.read("rescue_stations").geometry.iloc[0]
    amap = gpd.GeoSeries([shapely.Point(119.9747, 31.8081)], crs="EPSG:4326")
    expected = to_store_crs(amap, source_offset="gcj02").iloc[0]
    assert stored.distance(expected) < 1e-9
    shift_m = np.hypot((119.9747 - stored.x) * 94_800, (31.8081 - stored.y) * 111_000)
    assert 300 < shift_m < 700  # the GCJ-02 offset near Changzhou is about half a kilometre


def test_repaired_geometry_is_accepted_with_a_note(store, tmp_path):
    frame = plots(3)
    frame.loc[0, "geometry"] = BOWTIE
    path = tmp_path / "plots.gpkg"
    frame.to_file(path)
    report = import_layer(store, "industrial_plots", path)
    assert any(note.startswith("P001: geometry: repaired") for note in report.notes)
    assert store.read("industrial_plots").is_valid.all()


# ---------------------------------------------------------------------------- every bad feature
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_features_are_named_and_the_store_is_unchanged(unchanged, tmp_path, case):
    _, layer, build, feature, field, fragment, kwargs = case
    path = tmp_path / "input.gpkg"
    build().to_file(path)
    with pytest.raises(ValidationError) as caught:
        import_layer(unchanged, layer, path, **kwargs)
    message = str(caught.value)
    assert f"{feature}: {field}: " in message
    assert fragment in message
    assert str(path) in message and repr(layer) in message


def test_csv_coordinate_errors_name_row_and_field(unchanged, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text("station_id,kind,lon,lat\nF1,micro,119.97,31.7\nF2,micro,119.97,north\n")
    with pytest.raises(ValidationError) as caught:
        import_layer(unchanged, "rescue_stations", path, crs="4490")
    assert "row 2: lat: 'north' is not a number" in str(caught.value)
    assert caught.value.layer == "rescue_stations"


# ---------------------------------------------------------------------------- every bad file
def _write(path, data):
    path.write_bytes(data.encode("gbk") if isinstance(data, str) else data)
    return path


BAD_FILES = [
    ("missing", "missing.gpkg", None, {}, InputError, "file not found"),
    ("zero-bytes", "plots.geojson", b"", {}, InputError, "file is empty (0 bytes)"),
    ("zero-features", "plots.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode(),
     {}, InputError, "no features"),
    ("malformed-json", "plots.geojson", b'{"type": "FeatureCollection", "features": [', {}, InputError,
     "malformed JSON"),
    ("gbk", "stations.csv", "station_id,name,kind,lon,lat\nF1,武进站,micro,119.9,31.7\n", {"crs": "4490"},
     InputError, "text is not UTF-8 (looks like GBK); re-save as UTF-8 or pass --encoding gbk"),
    ("no-crs", "stations.csv", b"station_id,kind,lon,lat\nF1,micro,119.9,31.7\n", {}, CRSError,
     "no CRS declared; pass --crs"),
    ("unknown-crs", "stations.csv", b"station_id,kind,lon,lat\nF1,micro,119.9,31.7\n",
     {"crs": "EPSG:12345678"}, CRSError, "unknown CRS"),
]


@pytest.mark.parametrize("case", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_name_the_file_and_the_store_is_unchanged(unchanged, tmp_path, case):
    _, name, data, kwargs, error, fragment = case
    path = tmp_path / name
    if data is not None:
        _write(path, data)
    with pytest.raises(error) as caught:
        import_layer(unchanged, "rescue_stations", path, **kwargs)
    assert str(caught.value).startswith(f"{path}: ")
    assert fragment in str(caught.value)


def test_empty_layer_in_a_geopackage(unchanged, tmp_path):
    path = tmp_path / "plots.gpkg"
    plots(1).iloc[:0].to_file(path)
    with pytest.raises(InputError, match="no features"):
        import_layer(unchanged, "industrial_plots", path)


def test_unknown_layer_fails_before_reading(unchanged, tmp_path):
    with pytest.raises(LayerNotFound, match="known layers"):
        import_layer(unchanged, "plots", tmp_path / "does-not-matter.gpkg")


def test_a_failing_store_write_leaves_the_store_unchanged(unchanged, tmp_path, monkeypatch):
    original = GpkgTransaction.replace

    def write_then_crash(self, rows, system):
        original(self, rows, system)
        raise MemoryError("out of memory")

    monkeypatch.setattr(GpkgTransaction, "replace", write_then_crash)
    path = tmp_path / "plots.gpkg"
    plots(9).to_file(path)
    with pytest.raises(StoreError, match="unchanged"):
        import_layer(unchanged, "industrial_plots", path)


def test_every_failure_is_a_riskmap_error(unchanged, tmp_path):
    """Nothing a user can do to a file escapes as a bare Python exception."""
    for data in (b"\x00\x01\x02garbage", b"{}", b'{"type": "Feature"}', b"[]"):
        path = _write(tmp_path / "x.geojson", data)
        with pytest.raises(RiskmapError):
            import_layer(unchanged, "rescue_stations", path)
    path = tmp_path / "st.gpkg"
    stations(2).to_file(path)
    with pytest.raises(RiskmapError):
        import_layer(unchanged, "rescue_stations", path, layer="nope")


# ---------------------------------------------------------------------------- the store's own extent
def _with_admin_area(store, box):
    from layers.validate import validate_layer

    area = gpd.GeoDataFrame({"code": ["320412"], "name": ["武进区"], "level": ["district"], "parent": ["320400"]},
                            geometry=[box], crs="EPSG:4490")
    store.write("admin_areas", validate_layer("admin_areas", area))


def test_features_outside_the_stores_admin_areas_are_named_and_nothing_is_written(seeded_store, tmp_path):
    """A station 10 km east of the store's district (still in Jiangsu) is refused by id."""
    _with_admin_area(seeded_store, shapely.box(119.9, 31.6, 120.1, 31.8))
    before = sha256(seeded_store.address)
    frame = stations(4)
    frame.loc[2, "geometry"] = shapely.Point(120.2, 31.7)
    path = tmp_path / "stations.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(ValidationError) as err:
        import_layer(seeded_store, "rescue_stations", path)
    assert [(p.feature, p.field) for p in err.value.problems] == [(frame.loc[2, "station_id"], "geometry")]
    assert "outside the administrative area" in str(err.value)
    assert sha256(seeded_store.address) == before
    # a feature 50 m across the boundary is within the 100 m margin; None turns the check off
    frame.loc[2, "geometry"] = shapely.Point(120.1005, 31.7)
    frame.to_file(path, driver="GeoJSON")
    assert import_layer(seeded_store, "rescue_stations", path).rows == 4
    frame.loc[2, "geometry"] = shapely.Point(120.2, 31.7)
    frame.to_file(path, driver="GeoJSON")
    assert import_layer(seeded_store, "rescue_stations", path, admin_area=None).rows == 4


def test_new_admin_areas_are_not_checked_against_the_old_ones(seeded_store, tmp_path):
    _with_admin_area(seeded_store, shapely.box(119.9, 31.6, 120.1, 31.8))
    wider = gpd.GeoDataFrame({"code": ["320400"], "name": ["常州市"], "level": ["city"]},
                             geometry=[shapely.box(119.3, 31.2, 120.3, 32.1)], crs="EPSG:4490")
    path = tmp_path / "city.geojson"
    wider.to_file(path, driver="GeoJSON")
    assert import_layer(seeded_store, "admin_areas", path).rows == 1
