"""riskmap import roads FILE: OpenStreetMap extracts (ogr2ogr GeoPackage, .osm, .osm.pbf) in 武进.

One small street network, written three ways: a GeoPackage shaped as ``ogr2ogr`` writes the
``lines`` layer of an OSM file (``osm_id``, ``name``, ``highway``, ``other_tags``), the OSM XML
itself, and the same as ``.osm.pbf`` written with pyosmium. Nodes (lon, lat) in 武进区::

    D (119.975, 31.705)
    |  way 11: secondary, drawn D→B, oneway=-1 (traffic B→D)
    A ---- B ---- C ---- F      way 10: primary A-B-C (joined mid-way at B), maxspeed 50
           |                    way 13: footway C-F (not for driving)
    E (119.975, 31.695)         way 12: residential B-E, maxspeed CN:urban (not read)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString
from typer.testing import CliRunner

from layers.gpkg import GeoPackageStore
from layers.validate import validate_layer
from server.cli.main import app

runner = CliRunner()
NODES = {1: (119.970, 31.700), 2: (119.975, 31.700), 3: (119.980, 31.700), 4: (119.975, 31.705),
         5: (119.975, 31.695), 6: (119.985, 31.700)}
WAYS = [
    (10, [1, 2, 3], {"highway": "primary", "name": "延政路", "maxspeed": "50"}),
    (11, [4, 2], {"highway": "secondary", "oneway": "-1"}),
    (12, [2, 5], {"highway": "residential", "maxspeed": "CN:urban"}),
    (13, [3, 6], {"highway": "footway"}),
]


def _import(*args):
    return runner.invoke(app, ["import", *map(str, args)])


def write_gpkg(path):
    """The ways as ogr2ogr writes an OSM file's ``lines`` layer: tags other than name/highway in other_tags."""
    def other(tags):
        rest = {k: v for k, v in tags.items() if k not in ("name", "highway")}
        return ",".join(f'"{k}"=>"{v}"' for k, v in rest.items()) or None

    frame = gpd.GeoDataFrame({
        "osm_id": [str(w) for w, _, _ in WAYS],
        "name": [t.get("name") for _, _, t in WAYS],
        "highway": [t["highway"] for _, _, t in WAYS],
        "other_tags": [other(t) for _, _, t in WAYS],
    }, geometry=[LineString([NODES[n] for n in nds]) for _, nds, _ in WAYS], crs="EPSG:4326")
    frame.to_file(path, layer="lines", driver="GPKG")
    return path


def write_osm_xml(path):
    rows = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="riskmap tests">']
    rows += [f'  <node id="{i}" version="1" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in NODES.items()]
    for way, nds, tags in WAYS:
        rows.append(f'  <way id="{way}" version="1">')
        rows += [f'    <nd ref="{n}"/>' for n in nds]
        rows += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        rows.append("  </way>")
    path.write_text("\n".join(rows + ["</osm>", ""]), encoding="utf-8")
    return path


def write_pbf(path):
    osmium = pytest.importorskip("osmium")
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, (lon, lat) in NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=i, version=1, location=(lon, lat), tags={}))
        for way, nds, tags in WAYS:
            writer.add_way(osmium.osm.mutable.Way(id=way, version=1, nodes=nds, tags=tags))
    finally:
        writer.close()
    return path


@pytest.mark.parametrize(("name", "writer"), [("lines.gpkg", write_gpkg), ("wujin.osm", write_osm_xml),
                                              ("wujin.osm.pbf", write_pbf)])
def test_osm_extract_is_imported_as_roads(tmp_path, store, name, writer):
    source = writer(tmp_path / name)
    result = _import("roads", source, "--store", store.path)
    assert result.exit_code == 0, result.output
    assert "imported 3 feature(s)" in result.stdout
    assert "1 way(s) not for driving dropped (1 footway)" in result.stderr
    assert "1 way(s) one-way against their drawing (oneway=-1/reverse) turned round" in result.stderr
    assert "1 maxspeed value(s) not read (1 CN:urban)" in result.stderr
    assert "1 way(s) cut where other roads join them mid-way" in result.stderr
    roads = GeoPackageStore(store.path).read("roads").set_index("road_id")
    assert roads.index.tolist() == ["w10", "w11", "w12"]
    assert roads["class"].tolist() == ["primary", "secondary", "residential"]
    assert roads.loc["w10", "name"] == "延政路" and roads.loc["w10", "speed_kmh"] == 50.0
    assert np.isnan(roads.loc["w12", "speed_kmh"])
    assert roads["oneway"].tolist() == [False, True, False]
    w11 = shapely.get_coordinates(roads.loc["w11", "geometry"])  # turned round: drawn B→D, as traffic goes
    assert np.allclose(w11[[0, -1]], [NODES[2], NODES[4]], atol=1e-9)
    assert shapely.get_num_geometries(roads.loc["w10", "geometry"]) == 2  # cut at B


def test_ways_outside_the_stores_area_are_left_out_not_refused(tmp_path, store):
    """An extract is cut larger than the city: a way in 南京 (still Jiangsu) is left out, noted."""
    area = gpd.GeoDataFrame({"code": ["320412"], "name": ["武进区"], "level": ["district"], "parent": ["320400"]},
                            geometry=[shapely.box(119.9, 31.6, 120.1, 31.8)], crs="EPSG:4490")
    store.write("admin_areas", validate_layer("admin_areas", area))
    source = write_gpkg(tmp_path / "lines.gpkg")
    frame = gpd.read_file(source)
    nanjing = gpd.GeoDataFrame({"osm_id": ["99"], "highway": ["primary"]},
                               geometry=[LineString([(118.78, 32.04), (118.79, 32.04)])], crs="EPSG:4326")
    gpd.GeoDataFrame(pd.concat([frame, nanjing], ignore_index=True), crs="EPSG:4326").to_file(source, layer="lines")
    result = _import("roads", source, "--store", store.path)
    assert result.exit_code == 0, result.output
    assert "imported 3 feature(s)" in result.stdout
    assert "OSM: 1 way(s) outside the store's administrative area left out" in result.stderr
    away = gpd.GeoDataFrame({"osm_id": ["99"], "highway": ["primary"]}, geometry=nanjing.geometry, crs="EPSG:4326")
    away.to_file(tmp_path / "nanjing.gpkg")
    result = _import("roads", tmp_path / "nanjing.gpkg", "--store", store.path)
    assert result.exit_code == 1 and "no road of the extract lies in the store's administrative area" in result.stderr


def test_osm_extract_as_another_layer_is_refused_in_one_line(tmp_path, store):
    source = write_osm_xml(tmp_path / "wujin.osm")
    result = _import("rescue_stations", source, "--store", store.path)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "import it as layer 'roads'" in result.stderr
    assert "Traceback" not in result.output and not GeoPackageStore(store.path).exists("rescue_stations")


def test_extract_without_driving_roads_is_refused_and_the_store_unchanged(tmp_path, store):
    source = tmp_path / "paths.gpkg"
    gpd.GeoDataFrame({"osm_id": ["1"], "highway": ["footway"]}, geometry=[LineString([NODES[1], NODES[2]])],
                     crs="EPSG:4326").to_file(source)
    result = _import("roads", source, "--store", store.path)
    assert result.exit_code == 1 and "no roads a fire engine can drive" in result.stderr
    assert not GeoPackageStore(store.path).exists("roads")
