"""The GeoPackage store's catalogue is read once per change of the file, and every change is still seen
(``GeoPackageStore.infos``, issue 14: the catalogue was read on every request)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from layers.store import create_store, open_store
from layers.validate import validate_layer
from layers_common import plots, plots_version


@pytest.fixture
def store(tmp_path):
    store = create_store(tmp_path / "city.gpkg")
    store.write("industrial_plots", validate_layer("industrial_plots", plots(5)))
    yield store
    store.close()


def test_a_write_by_another_thread_is_seen(store):
    before = plots_version(store)
    writer = threading.Thread(target=store.write, args=("industrial_plots", validate_layer("industrial_plots",
                                                                                            plots(7))))
    writer.start()
    writer.join()
    assert plots_version(store) == before + 1


def test_a_write_by_another_process_is_seen(store):
    before = plots_version(store)
    code = (f"from layers.store import open_store; from layers.validate import validate_layer; "
            f"from layers_common import plots; s = open_store({str(store.path)!r}); "
            f"s.write('industrial_plots', validate_layer('industrial_plots', plots(8)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    assert plots_version(store) == before + 1


def test_a_change_made_outside_riskmap_is_seen(store):
    before = plots_version(store)
    with contextlib.closing(sqlite3.connect(store.path)) as con:
        con.execute("UPDATE riskmap_layers SET version = version + 10 WHERE name = 'industrial_plots'")
        con.commit()
    assert plots_version(store) == before + 10


def test_a_snapshot_sees_its_own_catalogue(store):
    store.infos()
    other = open_store(store.path)
    with store._snapshot():
        before = plots_version(store)
        other.write("industrial_plots", validate_layer("industrial_plots", plots(9)))
        assert plots_version(store) == before  # the snapshot's, not the latest
    assert plots_version(store) == before + 1
    other.close()
