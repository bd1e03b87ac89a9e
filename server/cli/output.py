"""What the ``riskmap`` commands print: tables, JSON, notes and errors, one way for all of them.

Tables are drawn with rich when standard output is a terminal, every column allowed to wrap (a
row count or a Chinese reason is never cut to "1…" on a narrow screen); when it is not a terminal
(a pipe, a file, a test runner) they are plain text: a title line, then tab-separated rows, one
line per row, for grep, cut and spreadsheets. ``--json`` output is plain JSON on standard output,
nothing else. Notes and errors go to standard error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["stdout", "stderr", "print_error", "print_notes", "print_table", "print_json", "print_line",
           "jsonable"]


def stdout() -> Console:
    """A console on the current standard output (looked up at call time, for test runners)."""
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    """A console on the current standard error."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str) -> None:
    """Print an error as red text on standard error (no markup is interpreted)."""
    stderr().print(Text(f"error: {message}", style="red"))


def print_notes(notes: Sequence[str], limit: int = 20) -> None:
    """Print notes (what was assumed or repaired) in yellow, at most ``limit`` of them."""
    console = stderr()
    for note in notes[:limit]:
        console.print(Text(f"note: {note}", style="yellow"))
    if len(notes) > limit:
        console.print(Text(f"note: … and {len(notes) - limit} more", style="yellow"))


def print_line(text: str, style: str = "") -> None:
    """One line of text on standard output (no markup interpreted)."""
    stdout().print(Text(text, style=style))


def _cell(value) -> str:
    return "" if value is None else str(value)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence], *,
                right: Iterable[str] = (), styles: Sequence[str | None] | None = None) -> None:
    """Print a table: rich and wrapping on a terminal, tab-separated plain text otherwise.

    Parameters
    ----------
    title : str
    columns : sequence of str
        Column headings.
    rows : iterable of sequences
        Cell values (printed with ``str``; None as empty).
    right : iterable of str
        Columns to right-align (numbers).
    styles : sequence, optional
        A rich style per row (terminal only), e.g. the colour of a verdict.
    """
    rows = [[_cell(v) for v in row] for row in rows]
    console = stdout()
    if not console.is_terminal:
        lines = [title, "\t".join(columns)]
        lines += ["\t".join(cell.replace("\t", " ").replace("\n", " / ") for cell in row) for row in rows]
        typer.echo("\n".join(lines))
        return
    right = set(right)
    table = Table(title=title, title_justify="left", show_lines=any("\n" in c for row in rows for c in row))
    for i, column in enumerate(columns):
        if column in right:  # numbers keep their width; the text columns give way and wrap
            width = max([len(row[i]) for row in rows if i < len(row)] + [1])
            table.add_column(column, justify="right", no_wrap=True, min_width=width, overflow="fold")
        else:
            table.add_column(column, overflow="fold")
    for i, row in enumerate(rows):
        style = styles[i] if styles is not None and i < len(styles) else None
        table.add_row(*(Text(c) for c in row), style=style)
    console.print(table)


def jsonable(value):
    """``value`` with numpy scalars, NaN, dates and paths made JSON-safe (recursively)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value) -> None:
    """Print ``value`` as JSON (UTF-8, Chinese as it is) on standard output."""
    typer.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2))
