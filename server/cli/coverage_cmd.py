"""``riskmap coverage --store S [--minutes 5] [--suggest K]``: fire cover, shelters, gaps, new sites.

Computes, for every fire station of the store, the area its crew reaches within the response time
(GB 51080-2015 §4.1.3: 5 min, 1 min turnout + 4 min driving in the rule set), by travel time on
the roads (one-way streets respected) or, in towns without roads, by a radius with a detour
factor; writes ``coverage_areas``, ``coverage_gaps``, ``shelter_assignments`` and
``shelter_loads`` back into the store (stamped with the rule set and an input fingerprint); and
prints: uncovered hazard sites first (major hazard sources by grade), coverage shares per town
and city-wide, towns without a rescue team, over-capacity shelters and people beyond shelter
reach, and with ``--suggest K`` the K new station sites covering the most people (MCLP) and the
fewest sites for full coverage (LSCP).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from server.cli.options import StoreOption, open_store, print_notes, stdout
from zoning.coverage.run import run_coverage
from zoning.rules import load_ruleset

__all__ = ["register", "coverage_command"]

_LISTED = 20


def _pct(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f} %"


def _table(title: str, columns: list[str], rows, right: set[str] = frozenset()) -> Table:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, justify="right" if c in right else "left")
    for row in rows:
        table.add_row(*[Text(str(v)) for v in row])
    return table


def _more(n: int) -> None:
    if n > _LISTED:
        stdout().print(Text(f"… and {n - _LISTED} more"))


def coverage_command(
    store: StoreOption,
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.1, help="Response time in minutes (default: the rule set's, 5 min by GB 51080-2015).")] = None,
    suggest: Annotated[Optional[int], typer.Option(
        "--suggest", min=0, help="Propose this many new fire-station sites (MCLP) and the fewest for full cover (LSCP).")] = None,
    rules: Annotated[Optional[Path], typer.Option(
        "--rules", dir_okay=False, help="Rule set (TOML); default data/rules/default.toml.")] = None,
) -> None:
    """Fire-station coverage, shelter reach and load, gaps and new-site suggestions for STORE."""
    ruleset = load_ruleset(rules)
    target = open_store(store)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=stdout(), transient=True) as progress:
        progress.add_task(f"coverage of {store.name} with rules {ruleset.label}", total=None)
        result = run_coverage(target, ruleset, minutes=minutes, suggest=suggest)
    print_notes(result.warnings)
    out = stdout()
    r = result.rules
    out.print(Text(f"response time {r.response_s / 60:g} min = turnout {r.turnout_s / 60:g} min + driving "
                   f"{r.driving_s / 60:g} min (GB 51080-2015 §4.1.3); {len(result.stations)} fire stations; "
                   f"population from {result.population_source or 'nowhere (no raster, no target populations)'}"))
    if len(result.roadless_towns):
        out.print(Text(f"towns with no roads use the radius fallback ({r.fallback_radius_m:.0f} m straight line = "
                       f"{r.fallback_speed_kmh:g} km/h × {r.driving_s / 60:g} min / detour {r.detour_factor:g}): "
                       + ", ".join(f"{c} {n}" for c, n in zip(result.roadless_towns["code"], result.roadless_towns["name"])),
                       style="yellow"))
    off = result.stations[result.stations["method"] != "network"]
    if len(off):
        out.print(_table("stations on the radius fallback (off the road network or in a town without roads)",
                         ["station", "town", "snap m"],
                         [(s, t, "–" if not np.isfinite(m) else f"{m:.0f}")
                          for s, t, m in zip(off["station_id"], off["town"], off["snap_m"])][:_LISTED], {"snap m"}))
        _more(len(off))
    sites = result.uncovered_sites
    if sites is not None and len(sites):
        out.print(_table(f"hazard sites outside {r.response_s / 60:g}-minute coverage ({len(sites)}; major hazards first)",
                         ["site", "name", "major hazard grade", "to coverage m"],
                         [(s, n, g or "–", f"{d:.0f}") for s, n, g, d in zip(
                             sites["site_id"], sites["name"], sites["major_hazard_grade"], sites["distance_m"])][:_LISTED],
                         {"to coverage m"}))
        _more(len(sites))
    elif sites is not None:
        out.print(Text("every hazard site is within coverage", style="green"))
    fig = result.figures
    out.print(_table("coverage shares per town and city-wide", ["code", "name", "area", "built-up", "population",
                                                                 "targets"],
                     [(c, n, _pct(a), _pct(b), _pct(p), _pct(t)) for c, n, a, b, p, t in zip(
                         fig["code"], fig["name"], fig["area_share"], fig["built_up_share"], fig["population_share"],
                         fig["target_share"])], {"area", "built-up", "population", "targets"}))
    if len(result.towns_without_team):
        out.print(Text("towns without a rescue station or team: " + ", ".join(
            f"{c} {n}" for c, n in zip(result.towns_without_team["code"], result.towns_without_team["name"])),
            style="yellow"))
    over = result.over_capacity
    if len(over):
        out.print(_table(f"shelters over capacity ({len(over)})", ["shelter", "class", "capacity", "load", "load/capacity"],
                         [(s, c, f"{cap:,.0f}", f"{ld:,.0f}", f"{q:.2f}") for s, c, cap, ld, q in zip(
                             over["shelter_id"], over["class"], over["capacity"], over["load"], over["load_ratio"])][:_LISTED],
                         {"capacity", "load", "load/capacity"}))
        _more(len(over))
    if result.beyond_reach["points"]:
        out.print(Text(f"{result.beyond_reach['population']:,.0f} people ({result.beyond_reach['points']} demand points) "
                       "have no shelter within their class's service radius (GB 50413-2007)", style="yellow"))
    s = result.suggestion
    if s is not None:
        out.print(Text(f"{s.uncovered:,.0f} people ({s.demand}) outside coverage; {s.candidates} candidate sites"))
        out.print(_table(f"{s.k} new station site(s) (MCLP, {s.status}): {s.newly_covered:,.0f} more people covered",
                         ["candidate", "source", "lon", "lat", "covers alone"],
                         [(c, src, f"{g.x:.5f}", f"{g.y:.5f}", f"{w:,.0f}") for c, src, g, w in zip(
                             s.sites["candidate_id"], s.sites["source"], s.sites.geometry, s.sites["covers"])],
                         {"covers alone"}))
        if s.minimum_sites is not None:
            out.print(Text(f"fewest new sites for full coverage (LSCP, {s.minimum_status}): {len(s.minimum_sites)}"
                           + (f"; {s.uncoverable:,.0f} people no candidate can reach are left out"
                              if s.uncoverable else "")))
    out.print(_table(f"layers written (rules {result.ruleset_version}, fingerprint {result.fingerprint})",
                     ["layer", "rows"], [(n, len(f)) for n, f in result.layers.items()], {"rows"}))


def register(app: typer.Typer) -> None:
    """Add ``coverage`` to the riskmap app."""
    app.command("coverage")(coverage_command)
