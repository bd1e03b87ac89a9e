"""Vector tiles (MVT), raster tiles (PNG), TileJSON, ETag / 304, the tile cache and its invalidation."""

from __future__ import annotations

import json

import mapbox_vector_tile
import numpy as np
import pytest
from pyproj import Transformer
from rasterio.io import MemoryFile

from geo.tiles import tile_bounds, tile_containing
from server.raster_tiles import PNG_SIGNATURE
from server.tiles import MVT, PNG
from server_common import PLANNER, plot_geometry

#: Tile z14 holding plot P001 (plot_geometry(0)), z10 holding the whole fixture area, a z12 tile.
Z14 = (14, *tile_containing(plot_geometry(0).centroid.x, plot_geometry(0).centroid.y, 14))
Z10 = (10, *tile_containing(119.99, 31.74, 10))
Z12 = (12, *tile_containing(119.99, 31.74, 12))
PARIS = (14, *tile_containing(2.35, 48.85, 14))


def url(layer, tile, suffix="mvt"):
    z, x, y = tile
    return f"/tiles/{layer}/{z}/{x}/{y}.{suffix}"


def decode(body, y_down=True):
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": y_down})


# ------------------------------------------------------------------ vector tiles
def test_a_layer_tile_is_an_mvt_with_the_public_fields(client):
    r = client.get(url("risk_wall", Z14))
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    tile = decode(r.content)
    assert list(tile) == ["risk_wall"] and tile["risk_wall"]["extent"] == 4096
    props = [f["properties"] for f in tile["risk_wall"]["features"]]
    assert {p["plot_id"] for p in props} == {"P001"}
    assert set(props[0]) == {"plot_id", "town", "level", "colour", "colour_name", "colour_zh", "notice"}


def test_tile_coordinates_grow_downwards_from_the_top_left_corner(client):
    """P001's corners, projected independently with pyproj, land where the tile puts them."""
    tile = decode(client.get(url("risk_wall", Z14)).content)
    (feature,) = tile["risk_wall"]["features"]
    got = np.array(feature["geometry"]["coordinates"][0])
    minx, miny, maxx, maxy = tile_bounds(*Z14).mercator
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    west, south, east, north = plot_geometry(0).bounds
    (x0, x1), (y_south, y_north) = to_merc.transform([west, east], [south, north])
    expect_x = sorted(round((v - minx) / (maxx - minx) * 4096) for v in (x0, x1))
    expect_y = sorted(round((maxy - v) / (maxy - miny) * 4096) for v in (y_south, y_north))
    assert sorted({got[:, 0].min(), got[:, 0].max()}) == pytest.approx(expect_x, abs=1)
    assert sorted({got[:, 1].min(), got[:, 1].max()}) == pytest.approx(expect_y, abs=1)
    # decoded the default way (y up), the north edge has the larger y
    flipped = np.array(decode(client.get(url("risk_wall", Z14)).content, y_down=False)
                       ["risk_wall"]["features"][0]["geometry"]["coordinates"][0])
    assert flipped[:, 1].max() == 4096 - got[:, 1].min()


def test_the_combined_tile_has_one_layer_per_public_layer(client):
    public = decode(client.get(url("all", Z10)).content)
    assert {"admin_areas", "risk_wall", "risk_zones", "shelters",
            "rescue_stations"} == set(public)  # roads start at zoom 12; plots only via the wall
    assert "roads" in decode(client.get(url("all", Z12)).content)
    planner = decode(client.get(url("all", Z10), headers=PLANNER).content)
    assert {"industrial_plots", "hazard_sites", "protected_targets", "safety_buffers"} <= set(planner)


def test_zones_are_town_level_and_the_wall_shows_levels_1_and_2_only_in_public_tiles(client):
    tile = decode(client.get(url("all", Z10)).content)
    assert {f["properties"]["zone_kind"] for f in tile["risk_zones"]["features"]} == {"town"}
    assert {f["properties"]["level"] for f in tile["risk_wall"]["features"]} == {1, 2}
    full = decode(client.get(url("all", Z10), headers=PLANNER).content)
    assert {f["properties"]["level"] for f in full["risk_wall"]["features"]} == {1, 2, 3, 4}


def test_layers_below_their_minimum_zoom_are_left_out(client):
    low = (8, *tile_containing(119.99, 31.74, 8))
    public = decode(client.get(url("all", low)).content)
    assert "admin_areas" in public and "risk_wall" not in public  # the wall starts at zoom 10
    assert client.get(url("risk_wall", low)).status_code == 204
    planner = decode(client.get(url("all", low), headers=PLANNER).content)
    assert "safety_buffers" in planner and "industrial_plots" not in planner  # from zoom 8 and 10
    assert client.get(url("industrial_plots", low), headers=PLANNER).status_code == 204


def test_minor_roads_appear_at_higher_zooms(client):
    def road_ids(tile):
        return {f["properties"]["road_id"] for f in decode(client.get(url("roads", tile)).content)["roads"]["features"]}

    assert road_ids(Z12) == {"R1", "R2"}  # primary and secondary
    assert "R3" in road_ids((14, *tile_containing(120.05, 31.74, 14)))  # a tertiary road


def test_a_tile_outside_the_data_is_204(client):
    for layer in ("risk_wall", "all"):
        r = client.get(url(layer, PARIS))
        assert r.status_code == 204 and r.content == b"" and "etag" in r.headers


@pytest.mark.parametrize("path, message", [
    ("/tiles/risk_wall/23/0/0.mvt", "zoom must be in 0..22"),
    ("/tiles/risk_wall/3/8/0.mvt", "x must be in 0..7 at zoom 3"),
    ("/tiles/risk_wall/3/0/8.mvt", "y must be in 0..7 at zoom 3"),
    ("/tiles/risk_wall/3/0/-1.mvt", "y must be in 0..7"),
    ("/tiles/risk_wall/3/a/0.mvt", "path.x"),
    ("/tiles/risk_surface/30/0/0.png", "zoom must be in 0..22"),
])
def test_a_tile_address_out_of_range_is_a_400(client, path, message):
    r = client.get(path, headers=PLANNER)
    assert r.status_code == 400 and message in r.json()["description"]


def test_unknown_and_private_layers(client):
    r = client.get(url("plots", Z14))
    assert r.status_code == 404 and "unknown vector layer 'plots'" in r.json()["description"]
    private, absent = client.get(url("hazard_sites", Z14)), client.get(url("hazard_sitez", Z14))
    assert private.status_code == absent.status_code == 404
    assert private.json()["description"] == absent.json()["description"].replace("hazard_sitez", "hazard_sites")
    assert client.get(url("hazard_sites", Z14), headers=PLANNER).status_code in (200, 204)


def normalised(body):
    return {name: sorted(json.dumps([f["properties"], f["geometry"]], sort_keys=True) for f in layer["features"])
            for name, layer in decode(body).items()}


def test_tiles_from_memory_and_from_the_store_are_the_same(client, store_path, settings):
    """Layers up to index_max_rows are answered from an in-memory index; 0 reads the store each time."""
    from fastapi.testclient import TestClient

    from server.app import create_app

    direct = create_app(store_path, settings.model_copy(update={"index_max_rows": 0}))
    with TestClient(direct) as other:
        for layer, tile in (("all", Z10), ("risk_wall", Z14), ("roads", Z12), ("all", Z12)):
            for headers in ({}, PLANNER):
                a = client.get(url(layer, tile), headers=headers)
                b = other.get(url(layer, tile), headers=headers)
                assert a.status_code == b.status_code and normalised(a.content) == normalised(b.content), \
                    (layer, tile)  # the store returns a bbox's features in its index's order
    assert direct.state.services.source.stats()["frames"]["size"] == 0


# ------------------------------------------------------------------ HTTP caching
def test_etag_gives_304_and_cache_control_depends_on_the_view(client):
    first = client.get(url("risk_wall", Z14))
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    vary = {v.strip() for v in first.headers["vary"].split(",")}
    assert vary == {"Authorization", "Cookie", "Accept-Encoding"}  # /web/tiles reads the session cookie
    again = client.get(url("risk_wall", Z14), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    private = client.get(url("risk_wall", Z14), headers=PLANNER)
    assert private.headers["etag"] != etag and private.headers["cache-control"].startswith("private")
    stale = client.get(url("risk_wall", Z14), headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_the_second_request_is_served_from_the_cache(fresh_client):
    assert fresh_client.get(url("risk_wall", Z12)).headers["x-cache"] == "MISS"
    assert fresh_client.get(url("risk_wall", Z12)).headers["x-cache"] == "HIT"


def test_a_write_to_the_layer_invalidates_its_cached_tiles(fresh_client, writable_store):
    before = fresh_client.get(url("risk_wall", Z14))
    assert fresh_client.get(url("risk_wall", Z14)).headers["x-cache"] == "HIT"
    wall = writable_store.read("risk_wall")
    wall.loc[wall["plot_id"] == "P001", "level"] = 3  # the town re-graded P001: no longer disclosed
    writable_store.write("risk_wall", wall, derived=True, action="edit")
    after = fresh_client.get(url("risk_wall", Z14))
    assert after.headers["x-cache"] == "MISS" and after.headers["etag"] != before.headers["etag"]
    assert after.status_code == 204  # the only plot of this tile is now hidden from the public
    old = fresh_client.get(url("risk_wall", Z14), headers={"If-None-Match": before.headers["etag"]})
    assert old.status_code == 204  # the old ETag no longer matches


# ------------------------------------------------------------------ raster tiles
@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # a PNG has no CRS
def test_risk_surface_png_tiles(client):
    r = client.get(url("risk_surface", Z14, "png"), headers=PLANNER)
    assert r.status_code == 200 and r.headers["content-type"] == PNG
    assert r.content.startswith(PNG_SIGNATURE)
    with MemoryFile(r.content) as mem, mem.open() as png:
        assert (png.width, png.height, png.count) == (256, 256, 1)
        band = png.read(1)
        colours = {png.colormap(1)[int(v)] for v in np.unique(band)}
    assert (215, 25, 28, 255) in colours  # red around P001
    assert any(c[3] == 0 for c in colours)  # transparent where the surface has no data
    assert client.get(url("risk_surface", PARIS, "png"), headers=PLANNER).status_code == 204


def test_the_risk_surface_is_not_public_and_formats_must_match_the_layer(client):
    assert client.get(url("risk_surface", Z14, "png")).status_code == 404
    r = client.get(url("risk_wall", Z14, "png"), headers=PLANNER)
    assert r.status_code == 400 and "ask for its tiles as .mvt" in r.json()["description"]
    r = client.get(url("risk_surface", Z14, "mvt"), headers=PLANNER)
    assert r.status_code == 400 and ".png" in r.json()["description"]


# ------------------------------------------------------------------ TileJSON
def test_tilejson_of_a_layer(client):
    doc = client.get("/tiles/risk_wall/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://testserver/tiles/risk_wall/{z}/{x}/{y}.mvt"]
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "risk_wall"
    assert layer["fields"] == {"plot_id": "String", "town": "String", "level": "Number", "colour": "String",
                               "colour_name": "String", "colour_zh": "String", "notice": "String"}
    west, south, east, north = doc["bounds"]
    assert 119.9 < west < east < 120.1 and 31.68 < south < north < 31.8
    assert doc["minzoom"] <= doc["center"][2] <= doc["maxzoom"]


def test_tilejson_of_the_combined_tiles_and_of_the_raster(client):
    public = {layer["id"] for layer in client.get("/tiles/all/tilejson.json").json()["vector_layers"]}
    assert "risk_wall" in public and "hazard_sites" not in public
    raster = client.get("/tiles/risk_surface/tilejson.json", headers=PLANNER).json()
    assert raster["tiles"][0].endswith("/tiles/risk_surface/{z}/{x}/{y}.png") and "vector_layers" not in raster
    assert client.get("/tiles/risk_surface/tilejson.json").status_code == 404
    assert client.get("/tiles/nope/tilejson.json").status_code == 404


def test_raster_bounds_are_read_from_the_file(writable_store):
    with writable_store.read_raster("risk_surface") as src:
        assert src.colormap(1)[1] == (215, 25, 28, 255)
