"""The PostGIS store's catalogue is read once per change, and every change is still seen
(layers/postgis_catalogue.py, issue 14: the catalogue was read on every request)."""

from __future__ import annotations

import time

import psycopg
import pytest

from layers.postgis import parse_address
from layers.postgis_catalogue import TRIGGER
from layers.store import create_store, open_store
from layers.validate import validate_layer
from layers_common import counting_catalogue_reads, plots, plots_version


@pytest.fixture
def pg_store(postgis_address):
    store = create_store(postgis_address)
    store.write("industrial_plots", validate_layer("industrial_plots", plots(5)))
    yield store
    store.close()


def _seen_within(store, version: int, seconds: float = 5.0) -> float:
    """Seconds until ``store`` sees ``version`` of the plots (the notice travels between sessions)."""
    started = time.monotonic()
    while plots_version(store) != version:
        assert time.monotonic() - started < seconds, "the change was never seen"
        time.sleep(0.001)
    return time.monotonic() - started


def test_another_process_write_is_seen(pg_store, postgis_address):
    before = plots_version(pg_store)
    other = open_store(postgis_address)  # another store object: its own connections, as another worker
    other.write("industrial_plots", validate_layer("industrial_plots", plots(7)))
    other.close()
    assert _seen_within(pg_store, before + 1) < 1.0


def test_a_change_made_outside_riskmap_is_seen(pg_store, postgis_address):
    """The trigger is on the table: an UPDATE by another tool notifies as riskmap's writes do."""
    before = plots_version(pg_store)
    url, schema = parse_address(postgis_address)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'UPDATE "{schema}".riskmap_layers SET version = version + 10 WHERE name = %s',
                    ("industrial_plots",))
    _seen_within(pg_store, before + 10)


def test_notices_of_another_schema_keep_the_cache(pg_store, postgis_server, monkeypatch):
    from postgis_server import new_schema_address

    pg_store.infos()
    calls = counting_catalogue_reads(pg_store, monkeypatch)
    neighbour = create_store(new_schema_address(postgis_server))  # another city in the same database
    neighbour.write("industrial_plots", validate_layer("industrial_plots", plots(3)))
    neighbour.close()
    time.sleep(0.05)
    pg_store.infos()
    assert calls == []


def test_a_store_made_before_the_trigger_gets_it(pg_store, postgis_address):
    url, schema = parse_address(postgis_address)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP TRIGGER {TRIGGER} ON "{schema}".riskmap_layers')
    reopened = open_store(postgis_address)
    reopened.infos()
    with psycopg.connect(url, autocommit=True) as con:
        found = con.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                            (TRIGGER, f'"{schema}".riskmap_layers')).fetchone()[0]
        assert found == 1
        con.execute(f'UPDATE "{schema}".riskmap_layers SET rows = rows WHERE name = %s', ("industrial_plots",))
    reopened.close()


def test_without_a_listener_the_catalogue_is_read_every_time(pg_store, postgis_address, monkeypatch):
    """A listener that cannot start (here: the trigger cannot be made) reads every time: always right."""
    monkeypatch.setattr(pg_store._watch, "_add_trigger", lambda con: (_ for _ in ()).throw(PermissionError("no")))
    url, schema = parse_address(postgis_address)
    pg_store._watch.close()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP TRIGGER {TRIGGER} ON "{schema}".riskmap_layers')
    pg_store._watch._retry_at = 0.0
    calls = counting_catalogue_reads(pg_store, monkeypatch)
    assert pg_store._watch.generation_now() is None
    pg_store.infos(), pg_store.infos()
    assert len(calls) == 2
    with psycopg.connect(url, autocommit=True) as con:  # unseen by any notice, seen by the reads
        con.execute(f'UPDATE "{schema}".riskmap_layers SET version = 99 WHERE name = %s', ("industrial_plots",))
    assert plots_version(pg_store) == 99


def test_a_lost_listener_connection_reads_and_listens_again(pg_store, postgis_address, monkeypatch):
    pg_store.infos()
    url, schema = parse_address(postgis_address)
    backend = pg_store._watch._con.info.backend_pid
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(%s)", (backend,))
        time.sleep(0.1)
        # changed while the listener was gone: must not be missed
        con.execute(f'UPDATE "{schema}".riskmap_layers SET version = 42 WHERE name = %s', ("industrial_plots",))
    assert plots_version(pg_store) == 42
    pg_store._watch._retry_at = 0.0
    calls = counting_catalogue_reads(pg_store, monkeypatch)
    pg_store.infos(), pg_store.infos(), pg_store.infos()
    assert len(calls) <= 2  # listening again: cached after the first read


def test_a_snapshot_sees_its_own_catalogue(pg_store, postgis_address):
    url, schema = parse_address(postgis_address)
    pg_store.infos()
    with pg_store._snapshot():
        before = plots_version(pg_store)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'UPDATE "{schema}".riskmap_layers SET version = 77 WHERE name = %s', ("industrial_plots",))
        time.sleep(0.05)
        assert plots_version(pg_store) == before  # the snapshot's, not the latest
    _seen_within(pg_store, 77)


def test_a_silent_listener_delays_a_change_by_the_max_age_at_most(pg_store, postgis_address, monkeypatch):
    """A listening connection a firewall dropped without a word hears nothing: the catalogue is read
    again after CATALOGUE_MAX_AGE anyway."""
    import layers.postgis

    monkeypatch.setattr(layers.postgis, "CATALOGUE_MAX_AGE", 0.3)
    monkeypatch.setattr(pg_store._watch, "generation_now", lambda: 1)  # deaf: never a notice
    pg_store.infos()
    url, schema = parse_address(postgis_address)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'UPDATE "{schema}".riskmap_layers SET version = 55 WHERE name = %s', ("industrial_plots",))
    assert plots_version(pg_store) != 55  # cached: the deaf listener heard nothing
    assert 0.1 < _seen_within(pg_store, 55) < 1.0
