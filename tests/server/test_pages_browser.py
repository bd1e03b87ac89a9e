"""Headless Chromium loads each page from the real server, and the screenshots show the four colours.

The app runs under uvicorn on a free loopback port (in a thread); Chromium (Debian ``chromium``)
opens a page with every other host unresolvable (``--host-resolver-rules``), so a page that
needed a CDN would come out blank. The screenshot (a PNG) is then read with Pillow and the map
area checked for pixels of the palette's four colours (within a small tolerance): the vector
tiles were fetched, decoded and drawn. The server records what it was asked for, so the tests
also see the tiles and the API calls each page made, and that none was refused.

The store is the server tests' fixture city with the plots' levels set by row instead of by
column, so that each of the two towns holds plots of all four colours (the town wall is checked
for all four). Signing in uses the link a wall screen would use, ``/login#token=…&next=…``.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from layers.store import Store, create_store, open_store
from layers.validate import validate_layer
from server.app import create_app
from server.settings import Settings
from server_common import SOURCES, TOKENS, TOWN_WEST, industrial_plots, serving
from zoning.pipeline import run_zoning
from zoning.rules import load_ruleset

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
Image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshots (pip install pillow)")

WIDTH, HEIGHT = 1200, 900
PANEL = 340  # the side panel of the planner and public maps (riskmap.css --rm-panel)
PALETTE = {"red": (0xD7, 0x19, 0x1C), "yellow": (0xF5, 0xD0, 0x00), "blue": (0x2B, 0x83, 0xBA),
           "green": (0x1A, 0x96, 0x41)}
TOLERANCE = 10  # per channel: canvas and SVG fills are exact inside a shape, edges are blended


def four_colour_plots():
    """The fixture plots with risk levels by row (row 0 重大 … row 3 低): every town has all four."""
    plots = industrial_plots()
    row = np.arange(len(plots)) // 4
    return plots.assign(risk_major=(row == 0).astype(int), risk_large=(row == 1).astype(int),
                        risk_general=(row == 2).astype(int), open_major_dangers=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "city.gpkg"
    layers = {name: make() for name, make in SOURCES.items()}
    layers["industrial_plots"] = four_colour_plots()
    target = create_store(path)
    target.write_many({name: validate_layer(name, frame) for name, frame in layers.items()}, actor="test")
    run_zoning(target, load_ruleset(), grid_cell_m=1000.0, surface_cell_m=100.0)
    return target



@pytest.fixture(scope="module")
def server(store):
    """``(base_url, requests)``: the app on 127.0.0.1 and the (path, status) of every request it answered."""
    app = create_app(store, Settings(tokens=TOKENS))
    seen: list[tuple[str, int]] = []

    async def recording(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def spy(message):
            if message["type"] == "http.response.start":
                seen.append((scope["path"], message["status"]))
            await send(message)

        await app(scope, receive, spy)

    with serving(recording) as base:
        yield base, seen


def screenshot(url: str, out) -> np.ndarray:
    """Chromium's screenshot of ``url`` as an RGB array (HEIGHT, WIDTH, 3); no host but 127.0.0.1 resolves."""
    profile = out.parent / f"profile-{out.stem}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--hide-scrollbars", f"--user-data-dir={profile}",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               f"--window-size={WIDTH},{HEIGHT}", "--virtual-time-budget=8000", f"--screenshot={out}", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert out.exists(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    with Image.open(out) as image:
        return np.asarray(image.convert("RGB"))


def colour_pixels(pixels: np.ndarray, rgb) -> int:
    """How many pixels are ``rgb`` within :data:`TOLERANCE` on every channel."""
    return int((np.abs(pixels.astype(int) - np.array(rgb)).max(axis=2) <= TOLERANCE).sum())


def assert_not_blank(pixels: np.ndarray) -> None:
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 40, f"the page looks blank ({len(colours)} colours)"


def requests_for(seen, prefix: str) -> list[tuple[str, int]]:
    return [(p, s) for p, s in seen if p.startswith(prefix)]


def refused(seen) -> list[tuple[str, int]]:
    """Requests answered with an error (the browser's own /favicon.ico aside)."""
    return [(p, s) for p, s in seen if s >= 400 and p != "/favicon.ico"]


def test_the_planner_map_draws_the_four_colours(server, tmp_path):
    base, seen = server
    seen.clear()
    pixels = screenshot(f"{base}/login#token=planner-token-123&next=/map", tmp_path / "planner.png")
    assert_not_blank(pixels)
    mapped = pixels[40:HEIGHT - 40, PANEL + 10:WIDTH - 260]  # the map, clear of panel, controls and legend
    counts = {name: colour_pixels(mapped, rgb) for name, rgb in PALETTE.items()}
    assert all(n >= 20 for n in counts.values()), counts
    assert ("/map", 200) in seen and ("/static/leaflet/leaflet.js", 200) in seen
    wall_tiles = requests_for(seen, "/web/tiles/risk_wall/")
    assert wall_tiles and {s for _, s in wall_tiles} <= {200, 204, 304} and 200 in {s for _, s in wall_tiles}
    assert not refused(seen), refused(seen)


def test_the_town_wall_shows_the_four_colours_in_its_tiles_and_on_its_map(server, tmp_path):
    base, seen = server
    seen.clear()
    pixels = screenshot(f"{base}/login#token=town-token-1234&next=/towns/{TOWN_WEST}/wall", tmp_path / "wall.png")
    assert_not_blank(pixels)
    assert (f"/towns/{TOWN_WEST}/wall", 200) in seen
    tiles = pixels[80:330, :470]   # the four count tiles, top left
    mapped = pixels[100:HEIGHT - 60, 520:WIDTH - 40]  # the map column, right of the tiles and the list
    for name, rgb in PALETTE.items():
        assert colour_pixels(tiles, rgb) > 2000, f"no {name} count tile"
        assert colour_pixels(mapped, rgb) >= 20, f"no {name} plot on the wall's map"
    assert not refused(seen), refused(seen)


def test_the_public_map_shows_only_the_disclosed_colours_and_the_nearest_shelters(server, tmp_path):
    base, seen = server
    seen.clear()
    pixels = screenshot(f"{base}/public/shelters?lon=119.955&lat=31.735&z=13", tmp_path / "public.png")
    assert_not_blank(pixels)
    mapped = pixels[40:HEIGHT - 40, PANEL + 10:WIDTH - 10]
    counts = {name: colour_pixels(mapped, rgb) for name, rgb in PALETTE.items()}
    assert counts["red"] >= 20 and counts["yellow"] >= 20, counts  # 重大 and 较大: disclosed
    assert counts["blue"] == 0 and counts["green"] == 0, counts  # 一般 and 低: not shown to the public
    assert colour_pixels(mapped, (0x00, 0x89, 0x7B)) >= 20  # the nearest shelters, drawn from the API's answer
    assert [p for p, s in seen if p == "/api/public/shelters/nearest" and s == 200]
    assert requests_for(seen, "/tiles/risk_wall/") and not requests_for(seen, "/web/")
    assert not refused(seen), refused(seen)
