"""The ``riskmap`` command line: one typer app, one module per subcommand.

Subcommand modules are listed in :data:`COMMAND_MODULES`; each exposes ``register(app)``. A listed
module that does not exist yet is skipped (so the list can name commands still being written);
any other import error is raised.

Errors: any :class:`~geo.errors.RiskmapError` becomes one red message on standard error (a
validation error lists its problems below it) and exit code 1, never a traceback; usage errors
(unknown option, bad value, missing argument) exit with code 2.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterable, Sequence

import typer
from typer.core import TyperGroup

try:  # typer ≥ 0.24 vendors click and raises its own copies of click's exceptions
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as click_exceptions

from geo.errors import RiskmapError
from server.cli.output import print_error, print_notes

__all__ = ["app", "main", "COMMAND_MODULES", "register_commands"]

#: Modules providing subcommands; append yours.
COMMAND_MODULES = (
    "server.cli.import_cmd",
    "server.cli.validate_cmd",
    "server.cli.export_cmd",
    "server.cli.info_cmd",
    "server.cli.demo_cmd",
    "server.cli.zone_cmd",
    "server.cli.serve_cmd",
    "server.cli.coverage_cmd", "server.cli.site_cmd",
    "server.cli.check_cmd", "server.cli.copy_cmd", "server.cli.tiles_cmd", "server.cli.province_cmd",
    "server.cli.users_cmd", "server.cli.audit_cmd",
)


class _StoreNotes(logging.Handler):
    """Notes of the store (an older store upgraded on its first write…) as ``note:`` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        print_notes([record.getMessage()])


_store_log = logging.getLogger("riskmap.store")
if not any(isinstance(h, _StoreNotes) for h in _store_log.handlers):
    _store_log.addHandler(_StoreNotes(logging.WARNING))


class RiskmapGroup(TyperGroup):
    """The top-level group: riskmap errors are one line and exit code 1, usage errors one line and 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the command line; in standalone mode print every error as one line and exit.

        Click (and typer's rich panels) would print a usage error as a framed block that a narrow
        terminal cuts up; here it is ``error: <what is wrong> (see 'riskmap CMD --help')``.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_exceptions.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "riskmap"
            message = exc.format_message().rstrip(".")
            envvar = getattr(getattr(exc, "param", None), "envvar", None)
            if isinstance(exc, click_exceptions.MissingParameter) and isinstance(envvar, str):
                message += f" (or set {envvar})"
            print_error(f"{message} (see '{command} --help')")
            sys.exit(exc.exit_code)
        except click_exceptions.ClickException as exc:
            print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except click_exceptions.Abort:
            print_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RiskmapError as exc:
            print_error(str(exc))
            ctx.exit(1)


def _new_app() -> typer.Typer:
    """An empty riskmap app (commands are added by :func:`register_commands`)."""
    target = typer.Typer(
        name="riskmap",
        cls=RiskmapGroup,
        help="Risk zoning and four-colour risk maps for Chinese cities. Every command that works on a store "
             "takes it as --store ADDRESS — a GeoPackage file or a postgresql:// URL — (or the environment "
             "variable RISKMAP_STORE).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @target.callback()
    def _root() -> None:
        """Risk zoning and four-colour risk maps for Chinese cities."""

    return target


def register_commands(target: typer.Typer, modules: Iterable[str] = COMMAND_MODULES) -> list[str]:
    """Import each module and call its ``register(target)``; return the names registered.

    A module that is itself missing (ModuleNotFoundError naming exactly it) is skipped; an
    error inside a module that exists, including a missing import of its own, is raised.
    """
    registered = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(target)
        registered.append(name)
    return registered


def __getattr__(name: str):
    """``app``: the riskmap app with every command, built on first use (see :func:`main`)."""
    if name == "app":
        globals()["app"] = target = _new_app()
        register_commands(target)
        return target
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _one_command(args: Sequence[str]) -> str | None:
    """The module of the command ``args`` name first (``serve`` → ``server.cli.serve_cmd``), if listed."""
    module = f"server.cli.{args[0].replace('-', '_')}_cmd" if args and not args[0].startswith("-") else None
    return module if module in COMMAND_MODULES else None


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``riskmap`` script.

    Only the module of the command asked for is imported (``riskmap serve`` does not load the
    zoning engine, the demo builder or scipy: seconds of start-up); help and unknown commands get
    the whole app.
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        module = _one_command(args)
        if module is not None:
            target = _new_app()
            register_commands(target, [module])
        else:
            target = globals()["app"] if "app" in globals() else __getattr__("app")
        target(args=args, prog_name="riskmap")
    except RiskmapError as exc:  # raised outside a subcommand (e.g. while registering)
        print_error(str(exc))
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
