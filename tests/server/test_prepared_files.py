"""Prepared tile layers kept in files (server.prepared_files): a new server restores them instead of reading
the store, the tiles are byte for byte the same, and a file never outlives the version it was made from."""

from __future__ import annotations

import logging

import pytest

from layers.store import open_store
from server.auth import Principal
from server.prepared_files import PreparedFiles, default_layer_folder
from server.services import build_services
from server.tile_layers import TileLayer
from server.tiles import ZOOM_CLASSES
from server.vector_tiles import buffered_lonlat_bounds
from server_common import TOWN_WEST
from test_server_tile_layers import tiles_over_plots

PLANNER, PUBLIC = Principal("planner"), Principal("public")


def served(store, settings, folder):
    return build_services(store, settings.model_copy(update={"layer_cache": str(folder), "tile_load_wait": 30.0}))


def all_tiles(services, who, tiles):
    layers = services.tiles.layers("all", who, "vector")
    return {tile: services.tiles.vector_tile(layers, *tile) for tile in tiles}


def kept(folder):
    return sorted(p.name for p in folder.rglob("*.npz"))


@pytest.mark.parametrize("who", [PLANNER, PUBLIC])
def test_a_restored_layer_cuts_the_bytes_of_the_layer_it_was_made_from(store_path, who):
    from server.redaction import Redactor
    from server.source import LayerSource

    source, redactor = LayerSource(open_store(store_path)), Redactor()
    for name in ("industrial_plots", "roads", "safety_buffers", "risk_wall", "shelters"):
        if not redactor.visible([name], who):
            continue
        info = source.info(name)
        layer = TileLayer(source.frame(redactor.view(name, who), info), ZOOM_CLASSES.get(name))
        restored = TileLayer.from_arrays(layer.arrays(), ZOOM_CLASSES.get(name))
        for z, x, y in tiles_over_plots(range(11, 17)):
            bbox = buffered_lonlat_bounds(z, x, y, 64 / 4096)
            assert restored.encode(name, z, x, y, bbox=bbox, zoom=z) == layer.encode(name, z, x, y, bbox=bbox, zoom=z)


def test_a_new_server_restores_the_layers_instead_of_reading_the_store(store_path, settings, tmp_path, monkeypatch):
    tiles = tiles_over_plots(range(13, 15))[:6]
    first = served(open_store(store_path), settings, tmp_path)
    want = all_tiles(first, PLANNER, tiles)
    assert first.source.wait_loaded(60)
    files = kept(tmp_path)
    assert len(files) == len(first.tiles.layers("all", PLANNER, "vector"))
    second = served(open_store(store_path), settings, tmp_path)
    reads = []
    read = second.store.read
    monkeypatch.setattr(second.store, "read", lambda name, *a, **k: reads.append(name) or read(name, *a, **k))
    assert all_tiles(second, PLANNER, tiles) == want
    assert reads == []  # every layer came from its file
    assert kept(tmp_path) == files


def test_an_edit_makes_a_new_file_and_the_old_one_goes(writable_store, settings, tmp_path):
    tiles = tiles_over_plots(range(14, 15))[:4]
    services = served(writable_store, settings, tmp_path)
    all_tiles(services, PLANNER, tiles)
    assert services.source.wait_loaded(60)
    before = [n for n in kept(tmp_path) if n.startswith("industrial_plots.")]
    row = writable_store.read("industrial_plots", where={"plot_id": "P001"}, versions=True)
    row["enterprise"] = "改名企业"
    writable_store.edit("industrial_plots", row, actor="test", reason="renamed")
    restarted = served(writable_store, settings, tmp_path)  # the file of the old version must not be used
    got = all_tiles(restarted, PLANNER, tiles)
    assert restarted.source.wait_loaded(60)
    after = [n for n in kept(tmp_path) if n.startswith("industrial_plots.")]
    assert len(before) == len(after) == 1 and before != after
    fresh = build_services(writable_store, settings.model_copy(update={"layer_cache": "off", "tile_load_wait": 30.0}))
    assert got == all_tiles(fresh, PLANNER, tiles)


def test_a_damaged_file_is_removed_and_the_layer_read_from_the_store(store_path, settings, tmp_path, caplog):
    tiles = tiles_over_plots(range(14, 15))[:4]
    first = served(open_store(store_path), settings, tmp_path)
    want = all_tiles(first, PLANNER, tiles)
    assert first.source.wait_loaded(60)
    damaged = next(tmp_path.rglob("industrial_plots.*.npz"))
    damaged.write_bytes(damaged.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        second = served(open_store(store_path), settings, tmp_path)
        assert all_tiles(second, PLANNER, tiles) == want
        assert second.source.wait_loaded(60)
    assert "cannot be read" in caplog.text
    assert damaged.exists() and damaged.stat().st_size > 1000  # prepared again and kept again


def test_a_town_editors_view_is_not_kept_and_off_keeps_nothing(store_path, settings, tmp_path):
    editor = Principal("town_editor", towns=(TOWN_WEST,))
    services = served(open_store(store_path), settings, tmp_path)
    all_tiles(services, editor, tiles_over_plots(range(14, 15))[:2])
    assert services.source.wait_loaded(60)
    layers = services.tiles.layers("all", editor, "vector")
    scoped = {info.name for view, info in layers if view.towns is not None}
    assert "industrial_plots" in scoped  # the plots follow the editor's towns: never kept
    assert {name.split(".")[0] for name in kept(tmp_path)} == {info.name for _, info in layers} - scoped
    off = build_services(open_store(store_path), settings.model_copy(update={"layer_cache": "off"}))
    assert off.source.files is None


def test_where_the_files_go(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = default_layer_folder("/data/city.gpkg")
    assert folder.parent == tmp_path / "riskmap" / "layers"
    assert default_layer_folder("/data/other.gpkg") != folder
    files = PreparedFiles(folder)
    one = files.path("roads", 3, "2026-01-01T00:00:00Z", "LayerView(full)", "tiles")
    assert one.parent == folder and one.name.startswith("roads.")
    assert files.path("roads", 4, "2026-01-01T00:00:00Z", "LayerView(full)", "tiles") != one
    assert files.path("roads", 3, "2026-01-01T00:00:01Z", "LayerView(full)", "tiles") != one
    assert files.path("roads", 3, "2026-01-01T00:00:00Z", "LayerView(public)", "tiles") != one


def test_a_new_app_over_a_geopackage_restores_the_kept_layers_at_once(store_path, settings, tmp_path):
    from fastapi.testclient import TestClient

    from server.app import create_app

    first = served(open_store(store_path), settings, tmp_path)
    all_tiles(first, PUBLIC, tiles_over_plots(range(14, 15))[:2])
    all_tiles(first, PLANNER, tiles_over_plots(range(14, 15))[:2])
    assert first.source.wait_loaded(60)
    app = create_app(open_store(store_path), settings.model_copy(update={"layer_cache": str(tmp_path)}))
    with TestClient(app):  # the lifespan has run, and asked for the kept layers
        services = app.state.services
        assert services.source.wait_loaded(30)
        for who in (PLANNER, PUBLIC):
            for view, info in services.tiles.layers("all", who, "vector"):
                assert isinstance(services.source.prepared(view, info, "tiles", None), TileLayer), (who, info.name)


def test_the_prepare_command_keeps_both_views_for_the_next_start(store_path, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from server.cli.main import app as cli

    runner = CliRunner()
    result = runner.invoke(cli, ["tiles", "prepare", "--store", str(store_path)],
                           env={"RISKMAP_LAYER_CACHE": str(tmp_path)})
    assert result.exit_code == 0, result.output
    services = served(open_store(store_path), settings, tmp_path)
    wanted = [(v, i) for who in (PLANNER, PUBLIC) for v, i in services.tiles.layers("all", who, "vector")]
    assert f"kept {len(wanted)} prepared layer(s)" in result.output and len(kept(tmp_path)) == len(wanted)
    reads = []
    read = services.store.read
    monkeypatch.setattr(services.store, "read", lambda name, *a, **k: reads.append(name) or read(name, *a, **k))
    assert services.tiles.restore_kept() == len(wanted) and services.source.wait_loaded(30)
    assert all(isinstance(services.source.prepared(v, i, "tiles", None), TileLayer) for v, i in wanted)
    assert reads == []
    off = runner.invoke(cli, ["tiles", "prepare", "--store", str(store_path)], env={"RISKMAP_LAYER_CACHE": "off"})
    assert off.exit_code == 1 and "not kept" in off.output and "Traceback" not in off.output
    bad = runner.invoke(cli, ["tiles", "prepare", "--store", str(store_path), "--view", "mayor"])
    assert bad.exit_code == 2 and "unknown view" in bad.output


def test_a_save_replaces_the_older_file_and_clears_what_a_stopped_writer_left(tmp_path):
    import os
    import time

    import numpy as np

    files = PreparedFiles(tmp_path)
    old = files.path("roads", 1, "t1", "full", "tiles")
    assert files.save(old, {"a": np.arange(3)})
    left, writing = tmp_path / ".writing-left.npz", tmp_path / ".writing-now.npz"
    left.write_bytes(b"half")
    writing.write_bytes(b"half")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    new = files.path("roads", 2, "t2", "full", "tiles")
    other_view = files.path("roads", 1, "t1", "public", "tiles")
    assert files.save(other_view, {"a": np.arange(1)}) and files.save(new, {"a": np.arange(4)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([new.name, other_view.name, writing.name])
    assert files.load(new)["a"].tolist() == [0, 1, 2, 3]


def test_a_claim_is_held_by_one_holder_at_a_time_and_freed_when_its_process_dies(tmp_path):
    import subprocess
    import sys

    files = PreparedFiles(tmp_path / "layers")
    path = files.path("roads", 1, "t1", "full", "tiles")
    with files.claim(path) as first:
        with files.claim(path) as second:  # another open file: as another worker
            assert (first, second) == (True, False)
    with files.claim(path) as again:
        assert again
    holder = subprocess.Popen(  # a worker that takes the claim and is killed while preparing
        [sys.executable, "-c", "import sys, time; from server.prepared_files import PreparedFiles; "
         "from pathlib import Path; f = PreparedFiles(Path(sys.argv[1]));"
         "c = f.claim(f.path('roads', 1, 't1', 'full', 'tiles')); assert c.__enter__(); print('held', flush=True);"
         "time.sleep(60)", str(files.folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with files.claim(path) as taken:
            assert not taken
    finally:
        holder.kill()
        holder.wait()
    with files.claim(path) as freed:
        assert freed


def test_two_workers_read_each_layer_from_the_store_once_between_them(store_path, settings, tmp_path, monkeypatch):
    """Worker A is held while it prepares the roads: worker B prepares the layers A has not reached,
    restores those A kept, and waits for A's roads rather than reading them itself."""
    import threading

    tiles = tiles_over_plots(range(13, 15))[:4]
    want = all_tiles(served(open_store(store_path), settings, tmp_path / "reference"), PLANNER, tiles)
    a, b = (served(open_store(store_path), settings, tmp_path / "shared") for _ in range(2))
    reads, roads_held = {"a": [], "b": []}, threading.Event()
    release = threading.Event()
    for label, worker in (("a", a), ("b", b)):
        read = worker.store.read

        def recording(name, *args, _label=label, _read=read, **kwargs):
            if not args and not kwargs:  # a whole layer, as the loader reads it
                reads[_label].append(name)
                if _label == "a" and name == "roads":
                    roads_held.set()
                    assert release.wait(60)
            return _read(name, *args, **kwargs)

        monkeypatch.setattr(worker.store, "read", recording)
    got = {}
    first = threading.Thread(target=lambda: got.setdefault("a", all_tiles(a, PLANNER, tiles)))
    first.start()
    assert roads_held.wait(60)
    second = threading.Thread(target=lambda: got.setdefault("b", all_tiles(b, PLANNER, tiles)))
    second.start()
    second.join(1.0)
    assert second.is_alive()  # B's tiles wait for A's roads
    release.set()
    first.join(60)
    second.join(60)
    assert got["a"] == got["b"] == want
    names = [info.name for _, info in a.tiles.layers("all", PLANNER, "vector")]
    assert "roads" not in reads["b"] and not set(reads["a"]) & set(reads["b"])
    assert sorted(reads["a"] + reads["b"]) == sorted(names)  # each layer read by one worker only


def test_a_busy_server_restores_the_first_callers_view_and_defers_the_others(store_path, settings, tmp_path,
                                                                             monkeypatch):
    """The planner's view is restored at once; the public's waits until the server is quiet or a tile
    asks for it (restoring both took another 0.5 s of each worker's GIL in its first seconds)."""
    import time

    first = served(open_store(store_path), settings, tmp_path)
    for who in (PLANNER, PUBLIC):
        all_tiles(first, who, tiles_over_plots(range(14, 15))[:2])
    assert first.source.wait_loaded(60)
    restored = []
    from_arrays = TileLayer.from_arrays.__func__
    monkeypatch.setattr(TileLayer, "from_arrays",
                        classmethod(lambda cls, arrays, *a: restored.append(1) or from_arrays(cls, arrays, *a)))
    second = served(open_store(store_path), settings, tmp_path)
    second.source.quiet = lambda: False
    planner = len(second.tiles.layers("all", PLANNER, "vector"))
    public = len(second.tiles.layers("all", PUBLIC, "vector"))
    assert second.tiles.restore_kept() == planner + public
    deadline = time.monotonic() + 30
    while len(restored) < planner and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert len(restored) == planner  # the public's view waits
    layers = second.tiles.layers("all", PUBLIC, "vector")
    tile = tiles_over_plots(range(14, 15))[0]
    assert second.tiles.vector_tile(layers, *tile) == first.tiles.vector_tile(first.tiles.layers("all", PUBLIC, "vector"),
                                                                             *tile)
    assert second.source.wait_loaded(30) and len(restored) == planner + public  # asked for: restored, not read
