"""Benchmark: the public map's search, "my place" and basemap tiles on the Changzhou demo, scale 1 and 10.

Run ``python benchmarks/bench_public.py [--scales 1 10] [--browser]``.

For each scale a demo store is built (and zoned) in a temporary folder, and an app is served
in-process (``fastapi.testclient``: routing, validation and JSON included). Timed, p50 / p90 of
``--repeat`` rounds:

* ``/api/public/search`` over a mix of Chinese, pinyin, initials, a road name and coordinates,
  after the first search (which builds the index: reported apart); baseline: the same matching
  with no index (pinyin of every name worked out per query, as a page without a server index
  would do);
* ``/api/public/place`` at points spread over the towns; baseline: the nearest-shelters lookup
  the page used before (``assess_shelters`` once per shelter wanted, a multi-source Dijkstra each);
* ``/public/basemap`` tiles at zoom 12 and 14 around the centre, uncached (first request).

With ``--browser``: headless Chromium opens ``/public/shelters`` at 390×844 (Debian ``chromium``,
through ``tests/server/chromium.py``), and the first load's weight (bytes the browser counted:
page, scripts, styles, tiles, answers) and the time from navigation to the first answer of a
search for 雪堰 picked at once are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))

from layers.demo.build import build_demo  # noqa: E402
from layers.gpkg import GeoPackageStore  # noqa: E402
from server.app import create_app  # noqa: E402
from server.pages.place import PlaceFinder  # noqa: E402
from server.settings import Settings  # noqa: E402
from zoning.coverage.shelters import assess_shelters  # noqa: E402
from zoning.pipeline import run_zoning  # noqa: E402
from zoning.rules import load_ruleset  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def p(values, q) -> float:
    return float(np.percentile(values, q))


def line(name, ms, base=None) -> None:
    ratio = f"   baseline {statistics.median(base):8.2f} ms  ×{statistics.median(base) / statistics.median(ms):.0f}" \
        if base else ""
    print(f"  {name:34s} p50 {p(ms, 50):8.2f} ms  p90 {p(ms, 90):8.2f} ms{ratio}")


def naive_search(names, query):
    """The baseline: pinyin of every name worked out for each query."""
    from pypinyin import Style, lazy_pinyin

    q = query.lower()
    return [n for n in names if q in n or q in "".join(lazy_pinyin(n)) or q in "".join(
        lazy_pinyin(n, style=Style.FIRST_LETTER)).lower()]


def old_nearest(finder, lon, lat, n=3):
    """The baseline: the nearest shelters as the page found them before (assess_shelters n times)."""
    st = finder._load()
    demand = gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(lon, lat)], crs="EPSG:4490").to_crs(st.crs)
    left = st.metric
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            row = assess_shelters(demand, left, finder.rules, st.graph).assignments.iloc[0]
            left = left[left["shelter_id"] != row["shelter_id"]]


def browser_first_load(app) -> None:
    from chromium import CHROMIUM, Chromium
    from server_common import serving

    if CHROMIUM is None:
        print("  browser: chromium not installed, skipped")
        return
    with serving(app) as base, Chromium(390, 844) as b:
        tab = b.tab(f"{base}/public/shelters")
        tab.wait_for("window.RiskMap && RiskMap.labelsLayer")
        tab.evaluate("RiskMap.search('雪堰').then(r => r.length && RiskMap.pickResult(0))")
        tab.wait_for("RiskMap.lastPlace && RiskMap.pending === 0")
        answered = tab.evaluate("performance.now()")
        tab.wait_for_tiles()
        weight = tab.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                              " return [n].concat(performance.getEntriesByType('resource'))"
                              ".reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0); })()")
        parts = tab.evaluate("performance.getEntriesByType('resource').map(e => [e.name.split('/').slice(3, 5).join('/'),"
                             " e.transferSize || e.encodedBodySize])")
        by = {}
        for name, size in parts:
            key = "tiles" if "basemap" in name or name.startswith("tiles") else name
            by[key] = by.get(key, 0) + size
        print(f"  browser 390×844: first load {weight / 1024:.0f} KB (until the map is idle after the first answer);"
              f" first answer {answered:.0f} ms after navigation")
        for key, size in sorted(by.items(), key=lambda kv: -kv[1])[:8]:
            print(f"      {size / 1024:7.1f} KB  {key}")


def bench(scale: float, repeat: int, browser: bool, tmp: str) -> None:
    t = time.perf_counter()
    path = build_demo(Path(tmp) / f"s{scale:g}", scale=scale)
    store = GeoPackageStore(path)
    if "risk_wall" not in store.layers():
        run_zoning(store, load_ruleset())
    print(f"scale {scale:g}: demo built and zoned in {time.perf_counter() - t:.0f} s "
          f"({store.info('roads').rows} road segments, {store.info('shelters').rows} shelters)")
    app = create_app(store, Settings())
    c = TestClient(app)
    roads = store.read("roads")
    road = str(roads["name"].dropna().iloc[len(roads["name"].dropna()) // 2])
    towns = store.read("admin_areas")
    towns = towns[towns["level"] == "town"]
    queries = ["雪堰", "xueyan", "xyz", road, "演示", "wujin", "31.51006,120.09471", "湖塘"]
    first = timed(c.get, "/api/public/search?q=雪堰")
    print(f"  first search (builds the index)    {first:8.0f} ms")
    ms, base = [], []
    names = list(roads["name"].dropna().unique()) + towns["name"].tolist()
    for _ in range(repeat):
        for q in queries:
            ms.append(timed(c.get, f"/api/public/search?q={q}"))
        base.append(sum(timed(naive_search, names, q) for q in queries[:3]) / 3)
    line("search", ms, base)
    points = shapely.point_on_surface(np.asarray(towns.geometry.values))[:: max(1, len(towns) // 12)]
    c.get(f"/api/public/place?lon={points[0].x}&lat={points[0].y}")  # the road graph, once per version
    ms = [timed(c.get, f"/api/public/place?lon={pt.x:.6f}&lat={pt.y:.6f}&hazard={h}")
          for _ in range(max(1, repeat // 3)) for pt in points for h in ("", "chemical")]
    services = app.state.services
    place_finder = PlaceFinder(services.source, services.redactor, load_ruleset())
    base = [timed(old_nearest, place_finder, pt.x, pt.y) for pt in points]
    line("place (my place, 3 shelters)", ms, base)
    from geo.tiles import tile_containing

    cx, cy = (points[0].x, points[0].y)
    for z in (12, 14):
        x0, y0 = (int(v) for v in tile_containing(cx, cy, z))
        ms = [timed(c.get, f"/public/basemap/{z}/{x0 + dx}/{y0 + dy}.mvt") for dx in range(-2, 3) for dy in range(-2, 3)]
        line(f"basemap tile z{z} (uncached)", ms)
    if browser:
        browser_first_load(app)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--browser", action="store_true", help="also measure the first load in Chromium")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            bench(scale, args.repeat, args.browser, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
