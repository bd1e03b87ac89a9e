"""``riskmap site STORE PROPOSAL.geojson --kind KIND``: the siting verdict of a proposed project.

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
from rich.table import Table
from rich.text import Text

from geo.errors import InputError
from server.cli.options import open_store, print_notes, stdout
from zoning.rules import load_ruleset
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


def _print(verdict) -> None:
    out = stdout()
    v = verdict.verdict
    head = Text("verdict: ", style="bold")
    head.append(f"{VERDICT_ZH[v]} {v}", style=_STYLES[v])
    out.print(head)
    colour = verdict.zone_colour or {}
    out.print(Text(f"{verdict.kind_zh} {verdict.kind_en}, {verdict.population} persons"
                   f"{' (assumed)' if verdict.population_assumed else ''}, GB 36894 {verdict.gb36894_class}, "
                   f"sensitivity level {verdict.sensitivity}, zone {verdict.zone}"
                   + (f", {colour.get('colour_zh')} {colour.get('colour_name')} ({colour.get('zone_kind')} "
                      f"{colour.get('zone_id')})" if colour else "")))
    table = Table(title="reasons 理由", title_justify="left", show_lines=True)
    table.add_column("verdict")
    table.add_column("rule")
    table.add_column("reason 理由")
    for r in verdict.reasons:
        table.add_row(Text(r.verdict, style=_STYLES[r.verdict]), r.rule, Text(f"{r.zh}\n{r.en}"))
    out.print(table)
    if verdict.buffers:
        buffers = Table(title="external safety distances it falls in 所处外部安全防护距离", title_justify="left")
        for column in ("site", "class", "required m", "actual m", "shortfall m"):
            buffers.add_column(column, justify="right" if column.endswith(" m") else "left")
        for b in verdict.buffers:
            buffers.add_row(b["site_id"], b["target_class"] + (" *" if b["own_class"] else ""),
                            f"{b['required_m']:.1f}", f"{b['actual_m']:.1f}", f"{b['shortfall_m']:.1f}")
        out.print(buffers)


def site_command(
    store: Annotated[Path, typer.Argument(metavar="STORE", dir_okay=False, help="The store (a riskmap GeoPackage).")],
    proposal: Annotated[Path, typer.Argument(
        metavar="PROPOSAL", dir_okay=False,
        help="GeoJSON Feature, FeatureCollection or geometry of the site, lon/lat (EPSG:4490 or WGS84).")],
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    rules: Annotated[Optional[Path], typer.Option(
        "--rules", dir_okay=False, help="Rule set (TOML); default data/rules/default.toml.")] = None,
) -> None:
    """Review a proposed project on STORE: permitted, conditional, advise_against or veto, with reasons."""
    ruleset = load_ruleset(rules)
    kinds = parse_siting_rules(ruleset).kinds
    if kind not in kinds:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(kinds)}")
    if population is not None and population < 0:
        raise InputError(f"--population: expected a whole number of persons ≥ 0, got {population}")
    geometry = proposal_geometry(read_json(proposal, "proposal"))
    items = read_json(inventory, "inventory") if inventory is not None else None
    if not store.exists():
        raise InputError(f"store {store}: no such file")
    context = SitingContext.from_store(open_store(store), ruleset)
    verdict = review_site(geometry, kind, context=context, ruleset=ruleset, population=population, inventory=items)
    if html is not None:
        html.write_text(render_siting_report(verdict), encoding="utf-8")
    if as_json:
        stdout().print_json(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print_notes(verdict.warnings)
        _print(verdict)
        if html is not None:
            stdout().print(Text(f"report written to {html}"))


def register(app: typer.Typer) -> None:
    """Add ``site`` to the riskmap app."""
    app.command("site")(site_command)
