"""One connection per thread: a thread that has ended gives its connection back (no pile-up under bursts)."""

from __future__ import annotations

import threading

from layers.store_base import ThreadConnections


class FakeConnection:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def _in_thread(pool: ThreadConnections) -> FakeConnection:
    got = []
    thread = threading.Thread(target=lambda: got.append(pool.get()))
    thread.start()
    thread.join()
    return got[0]


def test_a_connection_per_thread_reused_within_it():
    pool = ThreadConnections(FakeConnection)
    assert pool.get() is pool.get()
    assert _in_thread(pool) is not pool.get()


def test_the_connection_of_an_ended_thread_is_closed_when_the_next_is_made():
    pool = ThreadConnections(FakeConnection, alive=lambda con: not con.closed)
    mine = pool.get()
    first = _in_thread(pool)
    assert not first.closed  # nothing new made yet
    second = _in_thread(pool)
    assert first.closed and not second.closed and not mine.closed
    assert len(pool._all) == 2  # this thread's and the last thread's (ended, closed on the next get)


def test_close_closes_every_connection():
    pool = ThreadConnections(FakeConnection)
    made = [pool.get(), _in_thread(pool)]
    pool.close()
    assert all(con.closed for con in made)
