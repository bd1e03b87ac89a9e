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

from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from server.cli.options import (JsonOption, RulesOption, StoreOption, open_store, ruleset_with_palette,
                                store_label)
from server.cli.output import print_json, print_line, print_notes, print_table, stderr
from zoning.coverage.run import run_coverage

__all__ = ["register", "coverage_command"]

_LISTED = 20


def _pct(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f} %"


def _listed(title: str, columns: list[str], rows: list, right: set[str] = frozenset()) -> None:
    """A table of at most :data:`_LISTED` rows, and how many more there are."""
    print_table(title, columns, rows[:_LISTED], right=right)
    if len(rows) > _LISTED:
        print_line(f"… and {len(rows) - _LISTED} more")


def _records(frame: pd.DataFrame | None, columns: list[str]) -> list[dict] | None:
    if frame is None:
        return None
    return frame[[c for c in columns if c in frame.columns]].to_dict(orient="records")


def _as_json(result) -> dict:
    """The coverage result as plain data (what the tables show, in full)."""
    r, s = result.rules, result.suggestion
    suggestion = None
    if s is not None:
        suggestion = {
            "k": s.k, "status": s.status, "demand": s.demand, "uncovered": s.uncovered, "newly_covered": s.newly_covered,
            "candidates": s.candidates,
            "sites": [{"candidate_id": c, "source": src, "lon": g.x, "lat": g.y, "covers": w} for c, src, g, w in
                      zip(s.sites["candidate_id"], s.sites["source"], s.sites.geometry, s.sites["covers"])],
            "minimum_sites": None if s.minimum_sites is None else len(s.minimum_sites),
            "minimum_status": s.minimum_status, "uncoverable": s.uncoverable,
        }
    return {
        "ruleset": result.ruleset_version, "fingerprint": result.fingerprint,
        "response_s": r.response_s, "turnout_s": r.turnout_s, "driving_s": r.driving_s,
        "fire_stations": len(result.stations), "population_source": result.population_source,
        "warnings": result.warnings,
        "figures": _records(result.figures, ["code", "name", "area_share", "built_up_share", "population_share",
                                             "target_share"]),
        "uncovered_sites": _records(result.uncovered_sites, ["site_id", "name", "major_hazard_grade", "distance_m"]),
        "towns_without_team": _records(result.towns_without_team, ["code", "name"]),
        "over_capacity": _records(result.over_capacity, ["shelter_id", "class", "capacity", "load", "load_ratio"]),
        "beyond_reach": result.beyond_reach,
        "suggestion": suggestion,
        "layers": {name: len(frame) for name, frame in result.layers.items()},
    }


def _print(result) -> None:
    r = result.rules
    print_line(f"response time {r.response_s / 60:g} min = turnout {r.turnout_s / 60:g} min + driving "
               f"{r.driving_s / 60:g} min (GB 51080-2015 §4.1.3); {len(result.stations)} fire stations; "
               f"population from {result.population_source or 'nowhere (no raster, no target populations)'}")
    if len(result.roadless_towns):
        print_line(f"towns with no roads use the radius fallback ({r.fallback_radius_m:.0f} m straight line = "
                   f"{r.fallback_speed_kmh:g} km/h × {r.driving_s / 60:g} min / detour {r.detour_factor:g}): "
                   + ", ".join(f"{c} {n}" for c, n in zip(result.roadless_towns["code"], result.roadless_towns["name"])),
                   style="yellow")
    off = result.stations[result.stations["method"] != "network"]
    if len(off):
        _listed("stations on the radius fallback (off the road network or in a town without roads)",
                ["station", "town", "snap m"],
                [(s, t, "–" if not np.isfinite(m) else f"{m:.0f}")
                 for s, t, m in zip(off["station_id"], off["town"], off["snap_m"])], {"snap m"})
    sites = result.uncovered_sites
    if sites is not None and len(sites):
        _listed(f"hazard sites outside {r.response_s / 60:g}-minute coverage ({len(sites)}; major hazards first)",
                ["site", "name", "major hazard grade", "to coverage m"],
                [(s, n, g or "–", f"{d:,.0f}") for s, n, g, d in zip(
                    sites["site_id"], sites["name"], sites["major_hazard_grade"], sites["distance_m"])],
                {"to coverage m"})
    elif sites is not None:
        print_line("every hazard site is within coverage", style="green")
    fig = result.figures
    print_table("coverage shares per town and city-wide", ["code", "name", "area", "built-up", "population", "targets"],
                [(c, n, _pct(a), _pct(b), _pct(p), _pct(t)) for c, n, a, b, p, t in zip(
                    fig["code"], fig["name"], fig["area_share"], fig["built_up_share"], fig["population_share"],
                    fig["target_share"])], right={"area", "built-up", "population", "targets"})
    if len(result.towns_without_team):
        print_line("towns without a rescue station or team: " + ", ".join(
            f"{c} {n}" for c, n in zip(result.towns_without_team["code"], result.towns_without_team["name"])),
            style="yellow")
    over = result.over_capacity
    if len(over):
        _listed(f"shelters over capacity ({len(over)})", ["shelter", "class", "capacity", "load", "load/capacity"],
                [(s, c, f"{cap:,.0f}", f"{ld:,.0f}", f"{q:.2f}") for s, c, cap, ld, q in zip(
                    over["shelter_id"], over["class"], over["capacity"], over["load"], over["load_ratio"])],
                {"capacity", "load", "load/capacity"})
    if result.beyond_reach["points"]:
        print_line(f"{result.beyond_reach['population']:,.0f} people ({result.beyond_reach['points']} demand points) "
                   "have no shelter within their class's service radius (GB 50413-2007)", style="yellow")
    s = result.suggestion
    if s is not None:
        print_line(f"{s.uncovered:,.0f} people ({s.demand}) outside coverage; {s.candidates} candidate sites")
        print_table(f"{s.k} new station site(s) (MCLP, {s.status}): {s.newly_covered:,.0f} more people covered",
                    ["candidate", "source", "lon", "lat", "covers alone"],
                    [(c, src, f"{g.x:.5f}", f"{g.y:.5f}", f"{w:,.0f}") for c, src, g, w in zip(
                        s.sites["candidate_id"], s.sites["source"], s.sites.geometry, s.sites["covers"])],
                    right={"covers alone"})
        if s.minimum_sites is not None:
            print_line(f"fewest new sites for full coverage (LSCP, {s.minimum_status}): {len(s.minimum_sites)}"
                       + (f"; {s.uncoverable:,.0f} people no candidate can reach are left out"
                          if s.uncoverable else ""))
    print_table(f"layers written (rules {result.ruleset_version}, fingerprint {result.fingerprint})",
                ["layer", "rows"], [(n, f"{len(f):,}") for n, f in result.layers.items()], right={"rows"})


def coverage_command(
    store: StoreOption,
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.1, help="Response time in minutes (default: the rule set's, 5 min by GB 51080-2015).")] = None,
    suggest: Annotated[Optional[int], typer.Option(
        "--suggest", min=0, help="Propose this many new fire-station sites (MCLP) and the fewest for full cover (LSCP).")] = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fire-station coverage, shelter reach and load, gaps and new-site suggestions for the store."""
    ruleset = ruleset_with_palette(rules)
    target = open_store(store)
    console = stderr()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        progress.add_task(f"coverage of {store_label(store)} with rules {ruleset.label}", total=None)
        result = run_coverage(target, ruleset, minutes=minutes, suggest=suggest)
    if as_json:
        print_json(_as_json(result))
        return
    print_notes(result.warnings)
    _print(result)


def register(app: typer.Typer) -> None:
    """Add ``coverage`` to the riskmap app."""
    app.command("coverage")(coverage_command)
