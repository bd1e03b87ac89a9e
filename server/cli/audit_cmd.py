"""``riskmap audit --store S [--town CODE] [--layer L] [--since DATE] [--json]``: who changed what, when.

One line per audit entry, newest first: when, who, the action (``insert``/``update``/``retire``
of a row, ``import``/``derive`` of a whole layer, ``add``/``rotate``/``revoke`` of an account),
the layer and feature, the reason given, and a summary of the change (the fields whose values
differ between the row before and after; a geometry as "geometry changed"). ``--town`` keeps the
entries whose row (before or after) belongs to that town — by its ``town``, its ``plot_id`` or its
``site_id`` (:mod:`server.scope`), or for an account, its towns; whole-layer writes belong to no
town. ``--json`` prints the entries with their full before/after rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import pandas as pd
import typer

from geo.errors import InputError
from server.cli.options import JsonOption, StoreOption, open_store
from server.cli.output import print_json, print_line, print_table
from server.cli.users_cmd import town_codes
from server.scope import TownIndex

__all__ = ["register", "audit_command", "change_summary"]

_SYSTEM = {"row_version", "updated_at", "updated_by"}


def _short(value, width: int = 24) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_summary(before: dict | None, after: dict | None) -> str:
    """The fields that differ between two versions of a row, in words.

    >>> change_summary({"level": 3, "name": "甲", "geometry": "POINT (1 2)"},
    ...                {"level": 1, "name": "甲", "geometry": "POINT (1 3)"})
    'level: 3 → 1; geometry changed'
    >>> change_summary(None, {"plot_id": "P1"}), change_summary({"plot_id": "P1"}, None)
    ('new row', 'row retired')
    """
    if before is None and after is None:
        return ""
    if before is None:
        return "new row"
    if after is None:
        return "row retired"
    parts = []
    for key in dict.fromkeys([*before, *after]):
        if key in _SYSTEM or before.get(key) == after.get(key):
            continue
        if key == "geometry":
            parts.append("geometry changed")
        elif key == "token_id":
            parts.append("token replaced")
        else:
            parts.append(f"{key}: {_short(before.get(key))} → {_short(after.get(key))}")
    return "; ".join(parts) or "no field changed"


def _since(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: give YYYY-MM-DD or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _in_town(entry: pd.Series, town: str, index: TownIndex) -> bool:
    for doc in (entry["after"], entry["before"]):
        if not doc:
            continue
        if town in (doc.get("towns") or []) or index.town_of_document(doc) == town:
            return True
    return False


def audit_command(
    store: StoreOption,
    town: Annotated[Optional[str], typer.Option("--town", metavar="CODE",
                                                help="Only changes to rows of this town.")] = None,
    layer: Annotated[Optional[str], typer.Option("--layer", metavar="NAME",
                                                 help="Only this layer (accounts: account changes).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="DATE", callback=_since,
                                                 help="Only changes at or after this date (UTC).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many entries.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log: who changed which row, when, why, and what changed."""
    target = open_store(store)
    if town is not None and town not in town_codes(target):
        raise InputError(f"unknown town code {town!r}; 'riskmap info' and admin_areas list the towns")
    log = target.audit(layer=layer, since=since, limit=None if town is not None else limit)
    if town is not None and len(log):
        index = TownIndex(target)
        log = log[[_in_town(row, town, index) for _, row in log.iterrows()]].head(limit)
    changes = [change_summary(b, a) for b, a in zip(log["before"], log["after"])]
    if as_json:
        entries = [{**{k: v if isinstance(v, dict) or not pd.isna(v) else None for k, v in row.items()},
                    "changes": c} for row, c in zip(log.to_dict(orient="records"), changes)]
        print_json({"town": town, "layer": layer, "since": since, "entries": entries})
        return
    if not len(log):
        print_line("no audit entries match")
        return
    rows = [[r.when[:19].replace("T", " "), r.actor, r.action, r.layer, r.feature or "", r.detail or "", c]
            for r, c in zip(log.itertuples(index=False), changes)]
    print_table("audit log (newest first, times UTC)", ["when", "who", "action", "layer", "feature", "reason",
                                                        "changes"], rows)


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the riskmap app."""
    app.command("audit")(audit_command)
