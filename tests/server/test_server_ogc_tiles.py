"""OGC API - Tiles: tile-matrix sets, tilesets, and MVT tiles in three grids.

In WebMercatorQuad a tile is byte for byte the ``/tiles/{layer}/{z}/{x}/{y}.mvt`` tile (row = y,
col = x). In WorldCRS84Quad and CGCS2000Quad the tile is found and its coordinates checked by hand
from the plate carrée grid (level z: 2^(z+1) × 2^z tiles of 180/2^z degrees).
"""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from geo.tiles import tile_containing
from server.ogc.tilesets import GRIDS
from server_common import PLANNER, plot_geometry

P001 = plot_geometry(0)
Z = 14
X, Y = tile_containing(P001.centroid.x, P001.centroid.y, Z)


def plate_carree_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(row, col) of the WorldCRS84Quad tile holding lon/lat, by hand: tiles of 180/2^z degrees."""
    size = 180.0 / 2 ** z
    return int((90.0 - lat) // size), int((lon + 180.0) // size)


def test_the_tile_matrix_sets_are_listed_and_each_is_a_tms_2_document(client):
    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad", "WorldCRS84Quad", "CGCS2000Quad"]
    for entry in listed:
        doc = client.get(entry["links"][0]["href"].replace("http://testserver", "")).json()
        assert doc["id"] == entry["id"] and doc["tileMatrices"][0]["id"] == "0"
        parsed = morecantile.TileMatrixSet.model_validate(doc)  # a valid OGC TMS 2.0 document
        assert parsed.id == entry["id"]
    cgcs = client.get("/tileMatrixSets/CGCS2000Quad").json()
    assert cgcs["crs"].endswith("/EPSG/0/4490")
    level0 = cgcs["tileMatrices"][0]
    assert (level0["matrixWidth"], level0["matrixHeight"], level0["cellSize"]) == (2, 1, 180 / 256)
    assert client.get("/tileMatrixSets/GoogleCRS84Quad").status_code == 404


def test_a_collection_lists_its_tilesets_and_each_tileset_its_tile_template(client):
    sets = client.get("/collections/risk_wall/tiles").json()["tilesets"]
    assert len(sets) == 3 and all(s["dataType"] == "vector" for s in sets)
    doc = client.get("/collections/risk_wall/tiles/WorldCRS84Quad").json()
    item = [link for link in doc["links"] if link["rel"] == "item"][0]
    assert item["type"] == "application/vnd.mapbox-vector-tile" and item["templated"]
    assert item["href"].endswith("/collections/risk_wall/tiles/WorldCRS84Quad/{tileMatrix}/{tileRow}/{tileCol}")
    (layer,) = doc["layers"]
    assert layer["id"] == "risk_wall" and "enterprise" not in layer["propertiesSchema"]["properties"]
    assert layer["minTileMatrix"] == "9"  # risk_wall starts at Web Mercator 10: CRS84 level 9
    limits = {lim["tileMatrix"]: lim for lim in doc["tileMatrixSetLimits"]}
    row, col = plate_carree_tile(P001.centroid.x, P001.centroid.y, 13)
    assert limits["13"]["minTileRow"] <= row <= limits["13"]["maxTileRow"]
    assert limits["13"]["minTileCol"] <= col <= limits["13"]["maxTileCol"]


def test_web_mercator_quad_tiles_are_the_xyz_tiles(client):
    ogc = client.get(f"/collections/risk_wall/tiles/WebMercatorQuad/{Z}/{Y}/{X}")
    xyz = client.get(f"/tiles/risk_wall/{Z}/{X}/{Y}.mvt")
    assert ogc.status_code == xyz.status_code == 200 and ogc.content == xyz.content
    assert ogc.headers["etag"] == xyz.headers["etag"]
    dataset = client.get(f"/tiles/WebMercatorQuad/{Z}/{Y}/{X}")
    assert dataset.content == client.get(f"/tiles/all/{Z}/{X}/{Y}.mvt").content


@pytest.mark.parametrize("tms", ["WorldCRS84Quad", "CGCS2000Quad"])
def test_plate_carree_tiles_put_the_plot_where_the_hand_calculation_does(client, tms):
    z = 13
    row, col = plate_carree_tile(P001.centroid.x, P001.centroid.y, z)
    r = client.get(f"/collections/risk_wall/tiles/{tms}/{z}/{row}/{col}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    feature = [f for f in decoded["risk_wall"]["features"] if f["properties"]["plot_id"] == "P001"][0]
    xs = [p[0] for p in feature["geometry"]["coordinates"][0]]
    ys = [p[1] for p in feature["geometry"]["coordinates"][0]]
    size = 180.0 / 2 ** z
    west, north = -180.0 + col * size, 90.0 - row * size
    minx, miny, maxx, maxy = P001.bounds
    expected = [(minx - west) / size * 4096, (north - maxy) / size * 4096,
                (maxx - west) / size * 4096, (north - miny) / size * 4096]
    assert [min(xs), min(ys), max(xs), max(ys)] == pytest.approx(expected, abs=1.0)  # integer tile units


def test_both_plate_carree_grids_give_the_same_tile(client):
    row, col = plate_carree_tile(P001.centroid.x, P001.centroid.y, 12)
    a = client.get(f"/collections/risk_wall/tiles/WorldCRS84Quad/12/{row}/{col}")
    b = client.get(f"/collections/risk_wall/tiles/CGCS2000Quad/12/{row}/{col}")
    assert mapbox_vector_tile.decode(a.content) == mapbox_vector_tile.decode(b.content)
    assert a.headers["etag"] != b.headers["etag"]  # cached apart all the same


def test_zoom_rules_follow_the_ground_resolution(client):
    grid = GRIDS["WorldCRS84Quad"]
    assert [grid.mercator_zoom(z) for z in (0, 8, 13)] == [1, 9, 14]
    assert GRIDS["WebMercatorQuad"].mercator_zoom(13) == 13
    row, col = plate_carree_tile(P001.centroid.x, P001.centroid.y, 8)  # Web Mercator 9: no plots yet
    r = client.get(f"/collections/risk_wall/tiles/WorldCRS84Quad/8/{row}/{col}")
    assert r.status_code == 204
    # the combined tile still has the admin areas at that level
    assert "admin_areas" in mapbox_vector_tile.decode(client.get(f"/tiles/WorldCRS84Quad/8/{row}/{col}").content)


@pytest.mark.parametrize("url", [
    "/collections/risk_wall/tiles/WorldCRS84Quad/13/8192/0",   # row beyond the matrix (2^13 rows)
    "/collections/risk_wall/tiles/WorldCRS84Quad/30/0/0",      # no such tile matrix
    "/collections/risk_wall/tiles/NoSuchQuad/3/0/0",
    "/collections/nowhere/tiles/WebMercatorQuad/3/0/0",
])
def test_tiles_outside_the_set_are_404(client, url):
    assert client.get(url).status_code == 404


def test_private_collections_are_absent_for_the_public_and_there_for_a_planner(client):
    for url in ("/collections/hazard_sites/tiles", "/collections/hazard_sites/tiles/WebMercatorQuad",
                f"/collections/hazard_sites/tiles/WebMercatorQuad/{Z}/{Y}/{X}"):
        private, absent = client.get(url), client.get(url.replace("hazard_sites", "hazard_sitez"))
        assert private.status_code == absent.status_code == 404
        assert private.json()["description"] == absent.json()["description"].replace("hazard_sitez", "hazard_sites")
        assert client.get(url, headers=PLANNER).status_code in (200, 204)
    public = client.get("/tiles/WebMercatorQuad").json()
    assert "hazard_sites" not in {layer["id"] for layer in public["layers"]}


def test_ogc_tiles_answer_if_none_match(client):
    row, col = plate_carree_tile(P001.centroid.x, P001.centroid.y, 13)
    first = client.get(f"/collections/risk_wall/tiles/WorldCRS84Quad/13/{row}/{col}")
    assert first.status_code == 200
    again = client.get(first.url.path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_the_landing_page_links_the_tilesets(client):
    rels = {link["rel"] for link in client.get("/").json()["links"]}
    assert {"http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"} <= rels


def test_a_tile_matrix_set_builds_its_coordinate_transformer_once(monkeypatch):
    # a pyproj Transformer costs about 0.3 s; it was built again for every tile of a non-Mercator set
    import server.ogc.tilesets as tilesets

    grid = next(g for gid, g in tilesets.GRIDS.items() if gid != tilesets.WEB_MERCATOR)
    grid._transform()  # built (or already there)
    built = []
    real = tilesets.Transformer.from_crs
    monkeypatch.setattr(tilesets.Transformer, "from_crs", lambda *a, **k: built.append(a) or real(*a, **k))
    first = grid._transform()
    for _ in range(3):
        assert grid._transform() is first
    assert built == []
