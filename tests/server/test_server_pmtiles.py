"""Offline tile packages: ``riskmap tiles export`` to PMTiles and MBTiles, and ``/pmtiles/{name}``.

The PMTiles archive is read back with the ``pmtiles`` package (protomaps' own reader, independent
of :mod:`server.pmtiles`), MBTiles with sqlite3 and GDAL; every exported tile must equal the
server's tile for the same address, and no tile the server would answer may be missing.
"""

from __future__ import annotations

import gzip
import random
import shutil
import sqlite3
import subprocess
import warnings

import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression as PMCompression
from pmtiles.tile import TileType as PMTileType
from typer.testing import CliRunner

from geo.tiles import tiles_covering
from layers.gpkg import GeoPackageStore
from server.app import create_app
from server.cli.main import app as cli
from server.pmtiles import Compression, read_header, write_pmtiles
from server.settings import Settings
from server.tile_export import export_tiles
from server_common import PLANNER, SECRET_MARKERS, TOKENS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ZOOMS = range(10, 15)
runner = CliRunner()


@pytest.fixture(scope="module")
def package(store_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages") / "city.pmtiles"
    done = export_tiles(GeoPackageStore(store_path), out, ZOOMS)
    return out, done


def read_all(path):
    with open(path, "rb") as f:
        reader = Reader(MmapSource(f))
        header, metadata = reader.header(), reader.metadata()
        tiles = {zxy: data for zxy, data in all_tiles(MmapSource(f))}
    return header, metadata, tiles


def test_the_archive_reads_back_with_the_pmtiles_package(package):
    path, done = package
    header, metadata, tiles = read_all(path)
    assert header["tile_type"] == PMTileType.MVT and header["tile_compression"] == PMCompression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (10, 14)
    assert len(tiles) == done["tiles"] == header["addressed_tiles_count"]
    assert header["tile_contents_count"] == done["contents"] < done["tiles"]  # identical tiles stored once
    assert metadata["riskmap:view"] == "public"
    assert {layer["id"] for layer in metadata["vector_layers"]} == set(done["layers"])
    assert 119.8 < header["min_lon_e7"] / 1e7 < header["max_lon_e7"] / 1e7 < 120.2


def test_every_exported_tile_is_the_servers_tile_and_none_is_missing(package, client, app):
    path, done = package
    _, metadata, tiles = read_all(path)
    bounds = metadata["bounds"]
    served = {}
    for z in ZOOMS:
        for _, x, y in tiles_covering(tuple(bounds), z).tolist():
            r = client.get(f"/tiles/all/{z}/{x}/{y}.mvt")
            assert r.status_code in (200, 204)
            if r.status_code == 200:
                served[(z, x, y)] = r.content
    assert set(tiles) == set(served)
    for zxy, data in tiles.items():
        assert gzip.decompress(data) == served[zxy], zxy


def test_the_public_package_holds_no_private_layer_or_value(package):
    path, done = package
    _, metadata, tiles = read_all(path)
    text = b"".join(gzip.decompress(t) for t in tiles.values()).decode("utf-8", "replace")
    assert not any(marker in text for marker in SECRET_MARKERS)
    assert not {"hazard_sites", "industrial_plots", "safety_buffers"} & set(done["layers"])


def test_the_planner_view_is_labelled_and_holds_the_private_layers(store_path, tmp_path):
    done = export_tiles(GeoPackageStore(store_path), tmp_path / "planner.pmtiles", range(12, 13), view="planner")
    _, metadata, _ = read_all(tmp_path / "planner.pmtiles")
    assert metadata["riskmap:view"] == "planner" and "hazard_sites" in done["layers"]
    assert "not for publication" in metadata["description"]


def test_leaf_directories_and_runs_read_back(tmp_path):
    rng = random.Random(14)
    chosen = {(12, rng.randrange(4096), rng.randrange(4096)) for _ in range(30_000)}
    tiles = {zxy: f"tile {zxy}".encode() for zxy in chosen}
    run = {(3, x, y): b"same" for x in range(8) for y in range(8)}  # 64 identical tiles: runs
    path = tmp_path / "synthetic.pmtiles"
    with open(path, "wb") as f:
        counts = write_pmtiles(f, [*tiles.items(), *run.items()], {"name": "synthetic"},
                               tile_compression=Compression.NONE)
    header, _, back = read_all(path)
    assert header["leaf_directory_length"] > 0  # the root alone could not hold 30 000 entries
    assert counts["contents"] == len(tiles) + 1 and counts["entries"] < len(tiles) + len(run)
    assert back == {**tiles, **run}
    assert read_header(path.read_bytes())["root_length"] + 127 <= 16_384


def test_mbtiles_rows_are_tms_and_gdal_reads_the_file(store_path, tmp_path, client):
    out = tmp_path / "city.mbtiles"
    done = export_tiles(GeoPackageStore(store_path), out, range(12, 14))
    with sqlite3.connect(out) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata"))
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert meta["format"] == "pbf" and (meta["minzoom"], meta["maxzoom"]) == ("12", "13")
    assert len(rows) == done["tiles"]
    z, x, tms_row, data = rows[0]
    y = (1 << z) - 1 - tms_row
    assert gzip.decompress(data) == client.get(f"/tiles/all/{z}/{x}/{y}.mvt").content
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "gdal-bin is installed in CI"
    out_text = subprocess.run([ogrinfo, "-ro", "-so", str(out)], capture_output=True, text=True, timeout=60).stdout
    assert "risk_wall" in out_text and "shelters" in out_text


# ------------------------------------------------------------------ /pmtiles/{name}
@pytest.fixture(scope="module")
def served_packages(store_path, package, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    shutil.copyfile(package[0], folder / "city.pmtiles")
    export_tiles(GeoPackageStore(store_path), folder / "private.pmtiles", range(12, 13), view="planner")
    with TestClient(create_app(store_path, Settings(tokens=TOKENS, pmtiles_dir=folder))) as c:
        yield c, folder


def test_packages_are_served_with_range_requests(served_packages):
    c, folder = served_packages
    whole = (folder / "city.pmtiles").read_bytes()
    full = c.get("/pmtiles/city.pmtiles", headers={"Accept-Encoding": "gzip"})
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    assert full.content == whole and "content-encoding" not in full.headers  # never recompressed
    head = c.get("/pmtiles/city.pmtiles", headers={"Range": "bytes=0-126", "Accept-Encoding": "gzip"})
    assert head.status_code == 206 and head.headers["content-range"] == f"bytes 0-126/{len(whole)}"
    header = read_header(head.content)
    root = c.get("/pmtiles/city.pmtiles", headers={
        "Range": f"bytes={header['root_offset']}-{header['root_offset'] + header['root_length'] - 1}"})
    assert root.status_code == 206 and root.content == whole[header["root_offset"]:header["root_offset"] +
                                                               header["root_length"]]
    beyond = c.get("/pmtiles/city.pmtiles", headers={"Range": f"bytes={len(whole) + 10}-{len(whole) + 20}"})
    assert beyond.status_code == 416


def test_a_planner_package_is_absent_for_the_public(served_packages):
    c, _ = served_packages
    private, absent = c.get("/pmtiles/private.pmtiles"), c.get("/pmtiles/missing.pmtiles")
    assert private.status_code == absent.status_code == 404
    assert private.json()["description"].replace("private", "X") == absent.json()["description"].replace("missing", "X")
    planner = c.get("/pmtiles/private.pmtiles", headers=PLANNER)
    assert planner.status_code == 200 and planner.headers["cache-control"].startswith("private")
    for name in ("..%2Fcity.gpkg", "city.gpkg", ".hidden.pmtiles"):
        assert c.get(f"/pmtiles/{name}").status_code == 404


# ------------------------------------------------------------------ the command
def test_the_command_exports_the_public_view_by_default(store_path, tmp_path):
    out = tmp_path / "kiosk.pmtiles"
    result = runner.invoke(cli, ["tiles", "export", "--store", str(store_path), "--layers", "risk_wall,shelters",
                                 "--zoom", "12-13", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "public view" in result.output and out.exists()
    _, metadata, _ = read_all(out)
    assert [layer["id"] for layer in metadata["vector_layers"]] == ["risk_wall", "shelters"]


@pytest.mark.parametrize("args, code, words", [
    (["--layers", "hazard_sites"], 1, "--view planner"),
    (["--layers", "nowhere"], 1, "no vector layer 'nowhere'"),
    (["--zoom", "16-8"], 2, "16-8"),
    (["--zoom", "x"], 2, "not a zoom"),
    (["--view", "mayor"], 2, "unknown view"),
])
def test_the_command_refuses_bad_requests_in_one_line(store_path, tmp_path, args, code, words):
    out = tmp_path / "bad.pmtiles"
    result = runner.invoke(cli, ["tiles", "export", "--store", str(store_path), "--out", str(out), *args])
    assert result.exit_code == code and words in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()
    assert not list(tmp_path.iterdir())  # no half-written file left behind
