"""Fixtures of the server tests: one zoned store per session, an app and a client over it."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from layers.store import Store, open_store
from server.app import create_app
from server.settings import Settings
from server_common import TOKENS, build_store

with warnings.catch_warnings():  # starlette's TestClient warns about httpx itself
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def store_path(tmp_path_factory):
    """The fixture store (read-only: tests that write use ``writable_store``)."""
    store = build_store(tmp_path_factory.mktemp("server") / "city.gpkg")
    store.close()
    return Path(store.address)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """One app serves a whole worker's tests (hundreds of sign-ins from one address): rate limits
    off here; tests/server/test_server_edges.py tests them with their own settings."""
    return Settings(tokens=TOKENS, max_limit=50, default_limit=10, rate_limit_per_minute=0,
                    login_attempts_per_minute=0)


@pytest.fixture(scope="session")
def app(store_path, settings):
    return create_app(open_store(store_path), settings)


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def writable_store(store_path, tmp_path) -> Store:
    """A copy of the fixture store (the file is the whole store) that a test may change."""
    target = tmp_path / "city.gpkg"
    shutil.copyfile(store_path, target)
    return open_store(target)


@pytest.fixture
def fresh_client(writable_store, settings):
    """A client over ``writable_store`` with its own caches."""
    with TestClient(create_app(writable_store, settings)) as c:
        yield c
