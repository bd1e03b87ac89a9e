"""The examples in the server modules' docstrings run (pytest collects doctests from geo/, layers/ and
zoning/ only, so they are run here)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["server.settings", "server.errors", "server.auth", "server.cache", "server.redaction",
           "server.geojson", "server.html_views", "server.features", "server.vector_tiles", "server.mvt",
           "server.mvt_attributes", "server.protobuf", "server.tile_layers",
           "server.raster_tiles", "server.middleware.asgi", "server.middleware.compression",
           "server.middleware.headers", "server.middleware.limits", "server.security", "server.ogc.cql2",
           "server.ogc.queryables", "server.ogc.selection", "server.ogc.tilesets", "server.pmtiles",
           "server.siting_api"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0, result
