"""The tiny city of the zoning tests (tests/zoning/zoning_world.py) as stores for the CLI tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "zoning"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgis_server import postgis_address, postgis_server  # noqa: E402, F401
from zoning_world import build_store, copy_store  # noqa: E402


@pytest.fixture(scope="module")
def zoned_template(tmp_path_factory):
    """The tiny city, zoned (read-only: copy it with ``zoned_store`` to write)."""
    return build_store(tmp_path_factory.mktemp("cli_zoned"))


@pytest.fixture
def zoned_store(zoned_template, tmp_path):
    """A writable copy of the zoned tiny city."""
    return copy_store(zoned_template, tmp_path)
