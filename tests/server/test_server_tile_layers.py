"""Tiles cut from prepared layers (server.tile_layers) are the tiles cut from rows read per request.

The prepared path (an STRtree, a per-row first zoom, attributes encoded once in an
:class:`~server.mvt_attributes.AttributeTable`) replaced pandas per layer per tile; it must give the same
bytes, in every view, at every zoom, in every tile-matrix set, or ETags would depend on which
path a worker happened to take.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from geo.tiles import tile_containing
from layers.store import open_store
from server.auth import Principal
from server.mvt_attributes import AttributeTable
from server.ogc.tilesets import GRIDS
from server.services import build_services
from server.tile_layers import TileLayer
from server_common import TOWN_WEST, plot_geometry

VIEWS = {"planner": Principal("planner"), "public": Principal("public"),
         "town editor": Principal("town_editor", towns=(TOWN_WEST,))}


def tiles_over_plots(zooms=range(10, 17)):
    """Every tile of ``zooms`` holding a plot's corner (a plot cut by a tile edge included)."""
    found = set()
    for i in range(16):
        corners = np.asarray(plot_geometry(i).exterior.coords)
        for z in zooms:
            xs, ys = tile_containing(corners[:, 0], corners[:, 1], z)
            found |= {(z, int(x), int(y)) for x, y in zip(xs, ys)}
    return sorted(found)


@pytest.fixture(scope="module")
def services(store_path, settings):
    return build_services(open_store(store_path), settings)


def fallback(services, monkeypatch):
    """Make ``services`` cut every tile from rows read per request (never from prepared layers)."""
    monkeypatch.setattr(services.source, "prepared", lambda *args, **kwargs: None)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("layer", ["all", "risk_wall", "roads"])
def test_a_tile_cut_from_the_prepared_layer_is_byte_for_byte_the_tile_cut_from_rows_read(services, view,
                                                                                          layer, monkeypatch):
    who = VIEWS[view]
    layers = services.tiles.layers(layer, who, "vector")
    tiles = tiles_over_plots()
    for tile in tiles:  # ask for every layer to be prepared, then wait for it
        services.tiles.vector_tile(layers, *tile)
    assert services.source.wait_loaded(60)
    prepared = [services.source.prepared(v, i, "tiles", None) for v, i in layers]
    assert all(isinstance(p, TileLayer) for p in prepared)
    cut = {tile: services.tiles.vector_tile(layers, *tile) for tile in tiles}
    assert sum(map(len, cut.values())) > 0
    fallback(services, monkeypatch)
    differ = [tile for tile in tiles if services.tiles.vector_tile(layers, *tile) != cut[tile]]
    assert not differ, f"{len(differ)} of {len(tiles)} tiles differ, e.g. {differ[:3]}"


def test_tiles_of_another_tile_matrix_set_are_the_same_either_way(services, monkeypatch):
    grid = next(g for gid, g in GRIDS.items() if gid != "WebMercatorQuad")
    layers = services.tiles.layers("all", VIEWS["planner"], "vector")
    lon, lat = plot_geometry(5).centroid.coords[0]
    tiles = []
    for z in range(8, 14):
        tile = grid.tms.tile(lon, lat, z)
        tiles.append((z, tile.x, tile.y))
    for z, col, row in tiles:
        services.tiles.vector_tile(layers, z, col, row, grid)
    assert services.source.wait_loaded(60)
    cut = {t: services.tiles.vector_tile(layers, t[0], t[1], t[2], grid) for t in tiles}
    assert any(cut.values())
    fallback(services, monkeypatch)
    assert {t: services.tiles.vector_tile(layers, t[0], t[1], t[2], grid) for t in tiles} == cut


def test_a_layer_is_prepared_off_the_request_path_and_again_after_an_edit(writable_store, settings):
    services = build_services(writable_store, settings)
    who = VIEWS["planner"]
    (view, info), = services.tiles.layers("industrial_plots", who, "vector")
    assert services.source.prepared(view, info, "tiles", lambda f: TileLayer(f)) is None  # asked, not built
    assert services.source.wait_loaded(60)
    layer = services.source.prepared(view, info, "tiles", None)
    assert isinstance(layer, TileLayer) and len(layer) == info.rows
    row = writable_store.read("industrial_plots", where={"plot_id": "P001"}, versions=True)
    row["workers"] = int(row["workers"].iloc[0]) + 1
    writable_store.edit("industrial_plots", upserts=row, actor="test", reason="a new hire")
    newer = writable_store.info("industrial_plots")
    assert newer.version > info.version
    assert services.source.prepared(view, newer, "tiles", lambda f: TileLayer(f)) is None  # the old one is not served
    assert services.source.wait_loaded(60)
    assert services.source.prepared(view, newer, "tiles", None) is not layer


def test_a_layer_over_the_in_memory_limit_is_never_prepared(store_path, settings):
    services = build_services(open_store(store_path), settings.model_copy(update={"index_max_rows": 3}))
    (view, info), = services.tiles.layers("industrial_plots", VIEWS["planner"], "vector")
    assert info.rows > 3
    assert services.source.prepared(view, info, "tiles", lambda f: TileLayer(f)) is None
    assert services.source.wait_loaded(60)
    assert services.source.prepared(view, info, "tiles", lambda f: TileLayer(f)) is None


values = st.one_of(st.none(), st.integers(-2**40, 2**40), st.sampled_from(["甲", "乙", "a", ""]),
                   st.booleans(), st.floats(allow_nan=False, allow_infinity=False, width=32))


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(values, values, st.sampled_from(["x", "y", None])), min_size=1, max_size=25),
       st.data())
def test_the_tags_of_some_rows_of_a_table_are_those_of_a_table_of_those_rows_alone(rows, data):
    frame = pd.DataFrame(rows, columns=["a", "b", "c"]).astype({"a": object, "b": object})
    chosen = np.array(sorted(data.draw(st.sets(st.integers(0, len(frame) - 1)))), dtype=np.int64)
    whole = AttributeTable(frame)
    alone = AttributeTable(frame.iloc[chosen].reset_index(drop=True))
    keys, vals, tag_bytes, offsets = whole.tags(chosen)
    keys2, vals2, tag_bytes2, offsets2 = alone.tags(np.arange(len(chosen)))
    assert [whole.keys[k] for k in keys] == [alone.keys[k] for k in keys2]
    assert [whole.value(v) for v in vals] == [alone.value(v) for v in vals2]
    assert tag_bytes.tolist() == tag_bytes2.tolist() and offsets.tolist() == offsets2.tolist()


def test_an_edit_carries_the_prepared_layer_over_and_it_cuts_the_tiles_of_a_layer_built_anew(writable_store,
                                                                                              settings):
    from shapely import affinity

    from server.vector_tiles import buffered_lonlat_bounds

    services = build_services(writable_store, settings)
    (view, info), = services.tiles.layers("industrial_plots", VIEWS["planner"], "vector")
    services.source.prepared(view, info, "tiles", lambda f: TileLayer(f))
    assert services.source.wait_loaded(60)
    before = services.source.prepared(view, info, "tiles", None)
    row = writable_store.read("industrial_plots", where={"plot_id": "P001"}, versions=True)
    row["workers"] = 987_654  # a value no row had
    row["enterprise"] = "机密企业 新名字"
    row["geometry"] = affinity.translate(row.geometry.iloc[0], 0.004, 0.001)  # moved
    writable_store.edit("industrial_plots", row, actor="test", reason="moved and renamed")
    newer = writable_store.info("industrial_plots")
    assert services.source.carry_over("industrial_plots", "plot_id", ["P001"], info.version, newer.version) >= 1
    carried = services.source.prepared(view, newer, "tiles", None)  # at once: no background build
    assert isinstance(carried, TileLayer) and carried is not before
    anew = TileLayer(services.source.frame(view, newer))
    tiles = tiles_over_plots() + [(16, *tile_containing(*row.geometry.iloc[0].centroid.coords[0], 16))]
    for z, x, y in tiles:
        bbox = buffered_lonlat_bounds(z, x, y, 64 / 4096)
        assert carried.encode("p", z, x, y, bbox=bbox, zoom=z) == anew.encode("p", z, x, y, bbox=bbox, zoom=z)
    moved = tiles[-1]
    bbox = buffered_lonlat_bounds(*moved, 64 / 4096)
    assert carried.encode("p", *moved, bbox=bbox, zoom=16) != before.encode("p", *moved, bbox=bbox, zoom=16)


def test_a_cold_tile_waits_for_its_layers_to_load_rather_than_reading_them_row_by_bbox(store_path, settings,
                                                                                        monkeypatch):
    services = build_services(open_store(store_path), settings.model_copy(update={"tile_load_wait": 30.0}))
    layers = services.tiles.layers("all", VIEWS["planner"], "vector")
    reads = []
    monkeypatch.setattr(services.source, "read", lambda *a, **k: reads.append(a) or None)  # must not be called
    tile = tiles_over_plots(range(14, 15))[0]
    assert services.tiles.vector_tile(layers, *tile)
    assert reads == []
    assert all(isinstance(services.source.prepared(v, i, "tiles", None), TileLayer) for v, i in layers)


def test_the_wait_for_a_layer_is_bounded_by_the_loaders_cpu(store_path, settings):
    import time

    services = build_services(open_store(store_path), settings)
    (view, info), = services.tiles.layers("industrial_plots", VIEWS["planner"], "vector")

    def costly(frame):  # a layer that takes the loader 2 s of CPU
        end = time.thread_time() + 2.0
        while time.thread_time() < end:
            pass
        return TileLayer(frame)

    start = time.monotonic()
    assert services.source.prepared(view, info, "tiles", costly, wait=0.2) is None
    assert time.monotonic() - start < 1.5
    assert services.source.prepared(view, info, "tiles", costly, wait=20) is not None  # the same load, waited for


def test_a_starved_loader_is_waited_for_up_to_the_cap(store_path, settings):
    """A load that gets no CPU (here: it sleeps, as a loader does while forty request threads hold the
    GIL) is not given up on after ``wait`` seconds of the clock: reading rows per tile then starved
    the loader further. The cap (WAIT_CAP times the patience) still bounds the wait."""
    import time

    from server.source import WAIT_CAP

    services = build_services(open_store(store_path), settings)
    (view, info), (other_view, other) = (services.tiles.layers(name, VIEWS["planner"], "vector")[0]
                                         for name in ("industrial_plots", "shelters"))

    def starved(frame):
        time.sleep(1.0)
        return TileLayer(frame)

    start = time.monotonic()
    assert isinstance(services.source.prepared(view, info, "starved", starved, wait=0.3), TileLayer)
    assert 1.0 <= time.monotonic() - start < WAIT_CAP * 0.3

    def stuck(frame):
        time.sleep(WAIT_CAP * 0.1 + 2.0)
        return TileLayer(frame)

    start = time.monotonic()
    assert services.source.prepared(other_view, other, "stuck", stuck, wait=0.1) is None
    assert WAIT_CAP * 0.1 <= time.monotonic() - start < WAIT_CAP * 0.1 + 1.5


def test_a_tile_waits_while_the_loads_before_its_own_keep_ending(store_path, settings):
    """The wait counts the loader's progress: four loads of 0.3 s queued ahead, a caller patient for
    0.5 s without progress still gets its layer (a 0.5 s deadline in all would have given up)."""
    import time

    services = build_services(open_store(store_path), settings)
    source = services.source
    layers = services.tiles.layers("all", VIEWS["planner"], "vector")[:5]

    def slow(frame):
        time.sleep(0.3)
        return TileLayer(frame)

    for view, info in layers[:4]:
        source.prepared(view, info, "slow", slow)  # queued, not waited for
    view, info = layers[4]
    start = time.monotonic()
    assert isinstance(source.prepared(view, info, "slow", slow, wait=0.5), TileLayer)
    assert time.monotonic() - start > 1.0  # it did wait for the four loads ahead


def test_a_tile_asks_for_the_largest_layers_first_and_keeps_the_layers_order(store_path, settings, monkeypatch):
    """The loader is asked for the layers of a combined tile by rows, most first (the workers share the
    loads: the largest begun last kept them all waiting), while the tile's layers stay in their order."""
    reference = build_services(open_store(store_path), settings.model_copy(update={"tile_load_wait": 0.0}))
    services = build_services(open_store(store_path), settings.model_copy(update={"tile_load_wait": 0.0}))
    asked = []
    prepared = services.source.prepared
    monkeypatch.setattr(services.source, "prepared",
                        lambda view, info, *a, **k: asked.append(info.rows) or prepared(view, info, *a, **k))
    z, x, y = tiles_over_plots(range(14, 15))[0]
    layers = services.tiles.layers("all", VIEWS["planner"], "vector")
    rows = [info.rows for _, info in layers]
    assert len(set(rows)) > 2 and rows != sorted(rows, reverse=True)  # the layers are not in that order
    tile = services.tiles.vector_tile(layers, z, x, y)
    assert asked and asked == sorted(asked, reverse=True)
    assert tile == reference.tiles.vector_tile(reference.tiles.layers("all", VIEWS["planner"], "vector"), z, x, y)
