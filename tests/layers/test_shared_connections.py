"""Connections lent for one statement (PostGIS tiles): warmed ahead, each lent as soon as it is ready,
never more than ``size`` open (layers.store_base.SharedConnections)."""

from __future__ import annotations

import threading
import time

import pytest

from layers.store_base import SharedConnections


class FakeConnection:
    made = 0

    def __init__(self):
        FakeConnection.made += 1
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def _count():
    FakeConnection.made = 0


def test_a_request_during_warm_up_waits_for_one_connection_not_all():
    """The first tile of a new server waited for all eight backends to start (300 ms)."""
    pool = SharedConnections(FakeConnection, size=4)
    first_ready, release = threading.Event(), threading.Event()

    def prepare(con):
        if FakeConnection.made == 1:
            first_ready.set()
        else:
            release.wait(5)  # the other backends are slow to start

    warming = threading.Thread(target=pool.warm, args=(4, prepare))
    warming.start()
    assert first_ready.wait(5)
    time.sleep(0.05)
    started = time.monotonic()
    with pool.borrow() as con:  # the first one, prepared, while the second is still starting
        waited = time.monotonic() - started
        assert isinstance(con, FakeConnection)
    assert waited < 1.0 and FakeConnection.made == 2
    release.set()
    warming.join(5)
    assert FakeConnection.made == 4


def test_never_more_than_size_open():
    pool = SharedConnections(FakeConnection, size=3)
    held = []
    with pool.borrow() as a, pool.borrow() as b:
        held += [a, b]
        assert pool.warm(8, lambda con: None) == 1  # two lent, one more made, then full
    assert FakeConnection.made == 3
    assert pool.warm(3, lambda con: None) == 0
    with pool.borrow(), pool.borrow(), pool.borrow():
        pass
    assert FakeConnection.made == 3


def test_a_failed_preparation_closes_its_connection_and_frees_its_place():
    pool = SharedConnections(FakeConnection, size=2)
    made = []

    def prepare(con):
        made.append(con)
        raise RuntimeError("the backend refused")

    with pytest.raises(RuntimeError):
        pool.warm(2, prepare)
    assert made[0].closed
    with pool.borrow(), pool.borrow():  # both places free again
        assert FakeConnection.made == 3


def test_a_broken_connection_is_replaced():
    pool = SharedConnections(FakeConnection, size=1, alive=lambda con: not con.closed)
    with pool.borrow() as con:
        first = con
    first.close()
    with pool.borrow() as con:
        assert con is not first
    with pytest.raises(ValueError):
        with pool.borrow():
            raise ValueError("a statement failed")
    with pool.borrow() as con:  # the one whose statement failed was closed, not lent again
        assert FakeConnection.made == 3
