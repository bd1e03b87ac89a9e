"""read_source and write_export: formats, encodings, CRSs, and errors that name the file."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.errors import CRSError, InputError
from layers.errors import ValidationError
from layers.io import read_source, write_export
from layers_common import STORE_CRS, plots, stations


def _write_text(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


STATIONS_CSV = "station_id,name,kind,{x},{y}\nF1,武进消防站,micro,119.97,31.70\nF2,湖塘站,small,119.98,31.71\n"


# ---------------------------------------------------------------------------- formats
@pytest.mark.parametrize("suffix, driver", [(".gpkg", "GPKG"), (".geojson", "GeoJSON"),
                                            (".shp", "ESRI Shapefile"), (".parquet", None)])
def test_vector_formats(tmp_path, suffix, driver):
    source = stations(3)
    path = tmp_path / f"stations{suffix}"
    if driver:
        source.to_file(path, driver=driver)
    else:
        source.to_parquet(path)
    gdf, offset = read_source(path)
    assert offset is None
    assert gdf.crs.equals(STORE_CRS)
    assert gdf["station_id"].tolist() == ["F1", "F2", "F3"]
    assert gdf["name"].tolist() == source["name"].tolist()  # Chinese text survives
    assert gdf.geometry.geom_equals_exact(source.geometry, tolerance=1e-9).all()


def test_zipped_shapefile(tmp_path):
    stations(2).to_file(tmp_path / "st.shp")
    with zipfile.ZipFile(tmp_path / "st.zip", "w") as archive:
        for part in tmp_path.glob("st.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    gdf, _ = read_source(tmp_path / "st.zip")
    assert gdf["station_id"].tolist() == ["F1", "F2"]


@pytest.mark.parametrize("x, y", [("lon", "lat"), ("lng", "lat"), ("X", "Y"), ("经度", "纬度"),
                                  ("Longitude", "Latitude")])
def test_csv_coordinate_column_names(tmp_path, x, y):
    path = _write_text(tmp_path / "st.csv", STATIONS_CSV.format(x=x, y=y))
    gdf, offset = read_source(path, crs="EPSG:4490")
    assert [(p.x, p.y) for p in gdf.geometry] == [(119.97, 31.70), (119.98, 31.71)]
    assert x not in gdf.columns and y not in gdf.columns
    assert gdf["station_id"].tolist() == ["F1", "F2"]


def test_csv_named_columns_and_wkt(tmp_path):
    path = _write_text(tmp_path / "st.csv", "station_id,kind,E,N\nF1,micro,500000,3500000\n")
    gdf, _ = read_source(path, crs="4549", lon="E", lat="N")
    assert gdf.crs.to_epsg() == 4549 and gdf.geometry.iloc[0].x == 500000
    wkt = _write_text(tmp_path / "plots.csv",
                      'plot_id,town,wkt\nP1,320412,"POLYGON ((119.9 31.7, 119.91 31.7, 119.91 31.71, 119.9 31.7))"\n')
    gdf, _ = read_source(wkt, crs="cgcs2000")
    assert gdf.geometry.iloc[0].geom_type == "Polygon"


def test_csv_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "st.csv"
    path.write_bytes(b"\xef\xbb\xbf" + STATIONS_CSV.format(x="lon", y="lat").encode())
    gdf, _ = read_source(path, crs="4490")
    assert gdf.columns[0] == "station_id"


def test_gcj02_offset_is_returned_for_to_store_crs(tmp_path):
    path = _write_text(tmp_path / "st.csv", STATIONS_CSV.format(x="lon", y="lat"))
    gdf, offset = read_source(path, crs="gcj02")
    assert (gdf.crs.to_epsg(), offset) == (4326, "gcj02")
    _, offset = read_source(path, crs="BD-09")
    assert offset == "bd09"


def test_declared_crs_can_be_overridden_with_a_note(tmp_path):
    path = tmp_path / "st.gpkg"
    stations(2).to_file(path)
    gdf, offset = read_source(path, crs="gcj02")
    assert gdf.crs.to_epsg() == 4326 and offset == "gcj02"
    assert any("EPSG:4490" in note for note in gdf.attrs["notes"])


def test_geojson_without_crs_is_wgs84_with_a_note(tmp_path):
    path = tmp_path / "st.geojson"
    stations(2).to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    gdf, _ = read_source(path)
    assert gdf.crs.to_epsg() == 4326
    assert any("gcj02" in note for note in gdf.attrs["notes"])


def test_geopackage_with_several_layers(tmp_path):
    path = tmp_path / "many.gpkg"
    stations(2).to_file(path, layer="stations")
    plots(2).to_file(path, layer="plots")
    with pytest.raises(InputError, match="2 layers.*--layer") as caught:
        read_source(path)
    assert str(path) in str(caught.value)
    assert len(read_source(path, layer="plots")[0]) == 2
    with pytest.raises(InputError, match="no layer 'roads'"):
        read_source(path, layer="roads")


# ---------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_gbk_text_is_recognised_and_readable_with_encoding(tmp_path, suffix):
    if suffix == ".csv":
        text = STATIONS_CSV.format(x="经度", y="纬度")
    else:
        text = stations(1).to_json(ensure_ascii=False)
    path = _write_text(tmp_path / f"st{suffix}", text, "gbk")
    with pytest.raises(InputError) as caught:
        read_source(path, crs="4490")
    assert str(caught.value) == (f"{path}: text is not UTF-8 (looks like GBK); re-save as UTF-8 or "
                                 "pass --encoding gbk")
    gdf, _ = read_source(path, crs="4490", encoding="gbk")
    assert gdf["name"].iloc[0] == "武进消防站" if suffix == ".csv" else gdf["name"].iloc[0] == "武进1号消防站"


def test_gbk_shapefile_without_cpg(tmp_path):
    path = tmp_path / "st.shp"
    stations(2).to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[29] = 0  # no language driver either: nothing declares the code page
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    with pytest.raises(InputError, match=r"looks like GBK"):
        read_source(path)
    gdf, _ = read_source(path, encoding="gbk")
    assert gdf["name"].tolist() == stations(2)["name"].tolist()


def test_latin1_text_gets_a_generic_hint(tmp_path):
    path = _write_text(tmp_path / "st.csv", "station_id,kind,lon,lat\nFé,micro,119.9,31.7\n", "latin-1")
    with pytest.raises(InputError, match="not UTF-8.*--encoding"):
        read_source(path, crs="4490")


def test_unknown_encoding(tmp_path):
    path = _write_text(tmp_path / "st.csv", STATIONS_CSV.format(x="lon", y="lat"))
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_source(path, crs="4490", encoding="klingon")


# ---------------------------------------------------------------------------- errors name the file
def _empty_geojson(path):
    return _write_text(path, json.dumps({"type": "FeatureCollection", "features": []}))


def _empty_gpkg(path):
    stations(1).iloc[:0].to_file(path)
    return path


@pytest.mark.parametrize(
    "name, make, kwargs, error, fragment",
    [
        ("missing.gpkg", None, {}, InputError, "file not found"),
        ("zero.geojson", lambda p: p.write_bytes(b""), {}, InputError, "file is empty (0 bytes)"),
        ("zero.csv", lambda p: p.write_bytes(b""), {}, InputError, "file is empty (0 bytes)"),
        ("none.geojson", _empty_geojson, {}, InputError, "no features"),
        ("none.gpkg", _empty_gpkg, {}, InputError, "no features"),
        ("header.csv", lambda p: _write_text(p, "station_id,lon,lat\n"), {"crs": "4490"}, InputError,
         "no features"),
        ("bad.geojson", lambda p: _write_text(p, '{"type": "FeatureCollection", "features": [}'), {},
         InputError, "malformed JSON: Expecting value at line 1 column 44"),
        ("list.json", lambda p: _write_text(p, "[1, 2]"), {}, InputError, "not GeoJSON"),
        ("noise.gpkg", lambda p: p.write_bytes(b"not a geopackage at all" * 10), {}, InputError,
         "cannot read"),
        ("st.csv", lambda p: _write_text(p, STATIONS_CSV.format(x="lon", y="lat")), {}, CRSError,
         "no CRS declared; pass --crs EPSG:4490|EPSG:4549|"),
        ("st.shp", lambda p: (stations(1).to_file(p), p.with_suffix(".prj").unlink()), {}, CRSError,
         "no CRS declared"),
        ("crs.csv", lambda p: _write_text(p, STATIONS_CSV.format(x="lon", y="lat")),
         {"crs": "EPSG:999999"}, CRSError, "unknown CRS 'EPSG:999999'"),
        ("crs2.csv", lambda p: _write_text(p, STATIONS_CSV.format(x="lon", y="lat")),
         {"crs": "wgs85"}, CRSError, "unknown CRS 'wgs85'"),
        ("table.xlsx", lambda p: p.write_bytes(b"PK\x03\x04"), {}, InputError, "unknown file type '.xlsx'"),
        ("nocoords.csv", lambda p: _write_text(p, "station_id,kind\nF1,micro\n"), {"crs": "4490"},
         InputError, "no coordinate columns"),
        ("plain.parquet", lambda p: pd.DataFrame({"a": [1]}).to_parquet(p), {}, InputError,
         "without GeoParquet metadata"),
    ],
    ids=lambda v: v if isinstance(v, str) and "." in v else None,
)
def test_unreadable_sources_name_the_file(tmp_path, name, make, kwargs, error, fragment):
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(error) as caught:
        read_source(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert fragment in message
    assert "/vsimem/" not in message and "It might help" not in message


def test_bad_csv_coordinates_name_row_and_column(tmp_path):
    path = _write_text(tmp_path / "st.csv",
                       "station_id,kind,lon,lat\nF1,micro,119.97,31.7\nF2,micro,abc,31.7\nF3,micro,,31.7\n"
                       "F4,micro,,\n")
    with pytest.raises(ValidationError) as caught:
        read_source(path, crs="4490")
    assert [(p.feature, p.field) for p in caught.value.problems] == [("row 2", "lon"), ("row 3", "lon")]
    assert "'abc' is not a number" in str(caught.value)


def test_bad_wkt_names_row_and_column(tmp_path):
    path = _write_text(tmp_path / "p.csv", 'plot_id,wkt\nP1,"POINT (1 2)"\nP2,"POLYGON ((oops"\n')
    with pytest.raises(ValidationError) as caught:
        read_source(path, crs="4490")
    [problem] = caught.value.problems
    assert (problem.feature, problem.field) == ("row 2", "wkt")


# ---------------------------------------------------------------------------- export
def test_geojson_export_is_rfc7946(tmp_path):
    frame = plots(3).to_crs("EPSG:4549").to_crs(STORE_CRS)  # coordinates with many decimals
    out = write_export(frame, tmp_path / "plots.geojson", "geojson")
    document = json.loads(out.read_text())
    assert "crs" not in document  # RFC 7946: WGS84 implied
    coordinates = [c for f in document["features"] for ring in f["geometry"]["coordinates"] for c in ring]
    decimals = [len(repr(v).split(".")[1]) for xy in coordinates for v in xy]
    assert max(decimals) == 7
    expected = shapely.get_coordinates(frame.to_crs("EPSG:4326").geometry)
    assert abs(np.array(coordinates) - expected).max() < 1e-7


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "parquet"])
def test_exports_read_back(tmp_path, fmt):
    frame = stations(3)
    out = write_export(frame, tmp_path / f"out.{'geojson' if fmt == 'geojson' else fmt}")
    back, _ = read_source(out, crs="4490" if fmt == "csv" else None)
    assert back["station_id"].tolist() == ["F1", "F2", "F3"]
    assert back["name"].tolist() == frame["name"].tolist()
    moved = shapely.get_coordinates(back.to_crs(STORE_CRS).geometry) - shapely.get_coordinates(frame.geometry)
    assert abs(moved).max() < 1e-6


def test_csv_export_of_points_and_polygons(tmp_path):
    points = write_export(stations(2), tmp_path / "st.csv")
    assert points.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese UTF-8 with a BOM
    header = points.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[-2:] == ["lon", "lat"]
    polygons = write_export(plots(2), tmp_path / "plots.csv")
    assert polygons.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[-1] == "wkt"


def test_export_refusals(tmp_path):
    with pytest.raises(InputError, match="unknown export format 'kml'"):
        write_export(stations(1), tmp_path / "x.kml", "kml")
    with pytest.raises(InputError, match="cannot tell the format"):
        write_export(stations(1), tmp_path / "x.kml")
    with pytest.raises(InputError, match="does not exist"):
        write_export(stations(1), tmp_path / "no" / "x.gpkg")


def test_export_replaces_the_file_atomically(tmp_path, monkeypatch):
    out = write_export(stations(2), tmp_path / "st.gpkg")
    before = out.read_bytes()

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pyogrio, "write_dataframe", fail)
    with pytest.raises(InputError, match="boom"):
        write_export(stations(3), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["st.gpkg"]


def test_a_mixed_type_geojson_column_reads_without_a_reader_warning(tmp_path):
    """A bad value is reported by validation (feature and field), not by a pyogrio UserWarning."""
    import json
    import warnings

    from layers.io import read_source

    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"plot_id": f"P{i}", "risk_major": v},
         "geometry": {"type": "Point", "coordinates": [119.95, 31.7]}} for i, v in enumerate([1, "lots"])]}
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf, _ = read_source(path)
    assert [str(w.message) for w in caught if "Could not parse" in str(w.message)] == []
    assert list(gdf["risk_major"].astype(str)) == ["1", "lots"]
