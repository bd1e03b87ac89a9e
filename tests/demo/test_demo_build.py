"""build_demo: one atomic write of every layer, the raster beside it, nothing left on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import InputError
from layers.demo.build import STEPS, build_demo, summarise
from layers.gpkg import GeoPackageStore

LAYERS = ["admin_areas", "hazard_sites", "industrial_plots", "population", "protected_targets",
          "rescue_stations", "roads", "shelters"]


def test_store_holds_every_layer_from_one_write(demo_store):
    assert demo_store.layers() == LAYERS
    audit = demo_store.audit()
    assert set(audit["actor"]) == {"demo"}
    vector = audit[audit["layer"] != "population"]
    assert len(vector) == 7 and vector["when"].nunique() == 1  # one write_many
    admin = demo_store.read("admin_areas")
    assert admin["level"].value_counts()[["city", "district"]].tolist() == [1, 6]


def test_summary_gives_rows_and_district_areas(demo_store):
    summary = summarise(demo_store)
    assert summary["layers"]["industrial_plots"] == 1200
    assert "population" not in summary["layers"]
    assert summary["district_areas_km2"]["320412 武进区"] == pytest.approx(1062.1, rel=0.01)
    assert summary["district_areas_km2"]["320404 钟楼区"] == pytest.approx(133.9, rel=0.01)
    assert summary["population"] == pytest.approx(5_280_000, rel=1e-3)


def test_progress_reports_every_step_in_order(tmp_path):
    seen = []
    build_demo(tmp_path, scale=0.05, seed=3, progress=lambda step, done: seen.append((step, done)))
    assert seen == [(s, d) for s in STEPS for d in (False, True)]


@pytest.mark.parametrize(("scale", "seed"), [(0, 1), (-1, 1), (float("nan"), 1), (1, -5), (1, 1.5)])
def test_bad_options_are_refused(tmp_path, scale, seed):
    with pytest.raises(InputError):
        build_demo(tmp_path, scale=scale, seed=seed)
    assert not any(tmp_path.iterdir())


def test_existing_store_is_refused(demo_store):
    with pytest.raises(InputError, match="already exists"):
        build_demo(Path(demo_store.address).parent)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(GeoPackageStore, "write_raster", broken)
    with pytest.raises(OSError, match="disk full"):
        build_demo(tmp_path, scale=0.05)
    assert list(tmp_path.iterdir()) == []
