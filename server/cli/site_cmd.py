"""``riskmap site --store S PROPOSAL.geojson --kind KIND``: the siting verdict of a proposed project.

Reads the proposal (a GeoJSON Feature, FeatureCollection or bare geometry in lon/lat), loads the
store's layers (``riskmap zone`` must have run on it), and prints the verdict — permitted,
conditional, advise_against or veto (一票否决) — with every reason, Chinese then English. ``--json``
prints the verdict as JSON instead; ``--html`` also writes the self-contained HTML report with its
map. Bad input (malformed JSON, invalid geometry, unknown kind, unusable inventory) is one error
line and exit code 1; the verdict itself, whatever it is, exits 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from geo.errors import InputError
from server.cli.options import JsonOption, RulesOption, StoreOption, open_store, ruleset_with_palette
from server.cli.output import print_json, print_line, print_notes, print_table, stdout
from zoning.siting.context import SitingContext
from zoning.siting.review import parse_siting_rules, proposal_geometry, render_siting_report, review_site
from zoning.siting.rules import VERDICT_ZH

__all__ = ["register", "site_command", "read_json"]

_STYLES = {"permitted": "green", "conditional": "blue", "advise_against": "dark_orange", "veto": "bold red"}


def read_json(path: Path, what: str):
    """Parsed JSON of ``path``; InputError naming the file and the place of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path}: cannot be read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{what} {path}: nested too deeply to be a GeoJSON document") from None


def _print(verdict) -> None:
    v = verdict.verdict
    head = Text("verdict: ", style="bold")
    head.append(f"{VERDICT_ZH[v]} {v}", style=_STYLES[v])
    stdout().print(head)
    colour = verdict.zone_colour or {}
    print_line(f"{verdict.kind_zh} {verdict.kind_en}, {verdict.population} persons"
               f"{' (assumed)' if verdict.population_assumed else ''}, GB 36894 {verdict.gb36894_class}, "
               f"sensitivity level {verdict.sensitivity}, zone {verdict.zone}"
               + (f", {colour.get('colour_zh')} {colour.get('colour_name')} ({colour.get('zone_kind')} "
                  f"{colour.get('zone_id')})" if colour else ""))
    print_table("reasons 理由", ["verdict", "rule", "reason 理由"],
                [(r.verdict, r.rule, f"{r.zh}\n{r.en}") for r in verdict.reasons],
                styles=[_STYLES[r.verdict] for r in verdict.reasons])
    if verdict.buffers:
        print_table("external safety distances it falls in 所处外部安全防护距离",
                    ["site", "class", "required m", "actual m", "shortfall m"],
                    [(b["site_id"], b["target_class"] + (" *" if b["own_class"] else ""), f"{b['required_m']:.1f}",
                      f"{b['actual_m']:.1f}", f"{b['shortfall_m']:.1f}") for b in verdict.buffers],
                    right={"required m", "actual m", "shortfall m"})


def site_command(
    proposal: Annotated[Path, typer.Argument(
        metavar="PROPOSAL", dir_okay=False,
        help="GeoJSON Feature, FeatureCollection or geometry of the site, lon/lat (EPSG:4490 or WGS84).")],
    store: StoreOption,
    kind: Annotated[str, typer.Option(
        "--kind", "-k", help="school, kindergarten, hospital, care_home, housing, crowded_place, "
                             "labour_intensive, office, hazardous_plant (the rule set's [siting.kinds]).")],
    population: Annotated[Optional[int], typer.Option(
        "--population", "-p", help="Persons (pupils, beds, residents, workers); default: the kind's.")] = None,
    inventory: Annotated[Optional[Path], typer.Option(
        "--inventory", dir_okay=False,
        help='JSON list of {"name", "quantity_t"} items (hazardous_plant only).')] = None,
    html: Annotated[Optional[Path], typer.Option(
        "--html", dir_okay=False, help="Also write the self-contained HTML report here.")] = None,
    as_json: JsonOption = False,
    rules: RulesOption = None,
) -> None:
    """Review a proposed project on the store: permitted, conditional, advise_against or veto, with reasons."""
    ruleset = ruleset_with_palette(rules)
    kinds = parse_siting_rules(ruleset).kinds
    if kind not in kinds:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(kinds)}")
    if population is not None and population < 0:
        raise InputError(f"--population: expected a whole number of persons ≥ 0, got {population}")
    geometry = proposal_geometry(read_json(proposal, "proposal"))
    items = read_json(inventory, "inventory") if inventory is not None else None
    context = SitingContext.from_store(open_store(store), ruleset)
    verdict = review_site(geometry, kind, context=context, ruleset=ruleset, population=population, inventory=items)
    if html is not None:
        html.write_text(render_siting_report(verdict), encoding="utf-8")
    if as_json:
        print_json(verdict.to_dict())
        return
    print_notes(verdict.warnings)
    _print(verdict)
    if html is not None:
        print_line(f"report written to {html}")


def register(app: typer.Typer) -> None:
    """Add ``site`` to the riskmap app."""
    app.command("site")(site_command)
