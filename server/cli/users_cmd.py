"""``riskmap users add|list|revoke|rotate --store S``: the accounts of a store.

``add NAME --role ROLE [--town CODE …] [--expires DAYS]`` makes an account and prints its token
**once** (the store keeps only a scrypt hash, :mod:`server.accounts`): hand it to its holder,
who signs in with it (``/login``) or sends it as ``Authorization: Bearer``. A town editor needs
at least one ``--town``, each a town code of the store's ``admin_areas``, or ``--grid``, a grid code
(网格: the account then reads and edits that grid's rows only; a town's editor covers all its
grids); other roles take none. Grid codes are kept beside town codes in the account's ``towns``.
``rotate NAME`` replaces a lost or expired token (the old one and every session of the account
stop working at once); ``revoke NAME`` ends an account and its sessions (the row is kept, for the
audit). Every change writes an audit row naming the operating-system user who ran the command
(``riskmap audit --layer accounts``).
"""

from __future__ import annotations

import getpass
from typing import Annotated, Optional

import typer

from geo.errors import InputError
from layers.errors import LayerNotFound
from layers.store import Store
from server.accounts import check_name, check_role, expiry, hash_secret, is_expired, new_token, parse_token
from server.cli.options import JsonOption, StoreOption, open_store
from server.cli.output import print_json, print_line, print_table
from server.settings import ROLES

__all__ = ["register", "users_app", "account_status", "town_codes"]

users_app = typer.Typer(help="Accounts of the store: add, list, revoke, rotate (tokens shown once, kept hashed).",
                        no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Account name (letters, digits, _ . @ -).")]
ExpiresOption = Annotated[Optional[float], typer.Option(
    "--expires", metavar="DAYS", help="The token stops working after this many days (default: never).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, for the audit log.")]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without passwd entry)
        return "cli"


def town_codes(store: Store, level: str = "town") -> dict[str, str]:
    """Codes of the store's ``admin_areas`` rows of ``level`` (``town``, or ``grid``) → names."""
    try:
        areas = store.read("admin_areas", columns=["code", "name", "level"])
    except LayerNotFound:
        raise InputError("the store holds no admin_areas layer, so town codes cannot be checked: "
                         "import admin_areas first (riskmap import admin_areas FILE --store …)") from None
    towns = areas[areas["level"].astype(str) == level]
    return dict(zip(towns["code"].astype(str), towns["name"].astype(str)))


def _check_towns(store: Store, role: str, towns: list[str], grids: list[str] = ()) -> list[str]:
    """The scope of an account: its towns and grids (网格), each checked against ``admin_areas``."""
    if role != "town_editor":
        if towns or grids:
            option = "--town" if towns else "--grid"
            raise InputError(f"{option} is for town_editor accounts; a {role} is not scoped to towns or grids")
        return []
    if not towns and not grids:
        raise InputError("a town_editor account needs at least one --town CODE (a town of admin_areas) "
                         "or --grid CODE (a grid of admin_areas)")
    for level, codes in (("town", towns), ("grid", grids)):
        known = town_codes(store, level) if codes else {}
        unknown = [t for t in codes if t not in known]
        if unknown:
            sample = ", ".join(list(known)[:8]) + (" …" if len(known) > 8 else "")
            raise InputError(f"unknown {level} code(s) {', '.join(unknown)}; {level}s of the store: {sample or 'none'}")
    return list(dict.fromkeys([*towns, *grids]))


def account_status(account: dict) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if account["revoked_at"] is not None:
        return "revoked"
    return "expired" if is_expired(account["expires_at"]) else "active"


def _held(store: Store, name: str) -> dict:
    found = store.accounts(name=check_name(name))
    if not found:
        raise InputError(f"no account {name!r}; 'riskmap users list' shows the accounts")
    return found[0]


def _issue(as_json: bool, verb: str, account: dict, token: str) -> None:
    towns = account["towns"]
    if as_json:
        print_json({"name": account["name"], "role": account["role"], "towns": towns,
                    "expires_at": account.get("expires_at"), "token": token})
        return
    scope = f", towns/grids {', '.join(towns)}" if towns else ""
    until = f", expires {account['expires_at'][:10]}" if account.get("expires_at") else ""
    print_line(f"account {account['name']!r} {verb} ({account['role']}{scope}{until})", style="green")
    print_line("token (shown once, not kept by riskmap; hand it over safely):")
    print_line(token)


@users_app.command("add")
def add_command(
    name: NameArg,
    store: StoreOption,
    role: Annotated[str, typer.Option("--role", metavar="|".join(ROLES), help="The account's role.")],
    town: Annotated[Optional[list[str]], typer.Option(
        "--town", metavar="CODE", help="A town of a town_editor (repeat for several).")] = None,
    grid: Annotated[Optional[list[str]], typer.Option(
        "--grid", metavar="CODE",
        help="A grid (网格) of a town_editor: only that grid's rows (repeat for several).")] = None,
    expires: ExpiresOption = None,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Add an account and print its token once."""
    check_name(name)
    check_role(role)
    target = open_store(store)
    towns = _check_towns(target, role, list(town or []), list(grid or []))
    token, token_id = new_token()
    record = {"name": name, "role": role, "towns": towns, "token_id": token_id,
              "token_hash": hash_secret(parse_token(token)[1]), "expires_at": expiry(expires)}
    target.put_account(record, actor=_actor(), action="add", reason=reason)
    _issue(as_json, "added", record, token)


@users_app.command("rotate")
def rotate_command(name: NameArg, store: StoreOption, expires: ExpiresOption = None, reason: ReasonOption = "",
                   as_json: JsonOption = False) -> None:
    """Give an account a new token (the old one and its sessions stop working) and print it once."""
    target = open_store(store)
    held = _held(target, name)
    if held["revoked_at"] is not None:
        raise InputError(f"account {name!r} was revoked on {held['revoked_at'][:10]}; add a new account instead")
    ends = expiry(expires) if expires is not None else held["expires_at"]
    if expires is None and is_expired(ends):
        raise InputError(f"account {name!r} expired on {ends[:10]}; give --expires DAYS for the new token")
    token, token_id = new_token()
    record = {"name": name, "token_id": token_id, "token_hash": hash_secret(parse_token(token)[1]),
              "expires_at": ends}
    target.put_account(record, actor=_actor(), action="rotate", reason=reason)
    _issue(as_json, "rotated", {**held, **record}, token)


@users_app.command("revoke")
def revoke_command(name: NameArg, store: StoreOption, reason: ReasonOption = "", as_json: JsonOption = False) -> None:
    """Revoke an account: its token and every session of it stop working at once."""
    target = open_store(store)
    held = _held(target, name)
    if held["revoked_at"] is not None:
        raise InputError(f"account {name!r} is already revoked (since {held['revoked_at'][:10]})")
    target.put_account({"name": name}, actor=_actor(), action="revoke", reason=reason)
    if as_json:
        print_json({"name": name, "revoked": True})
    else:
        print_line(f"account {name!r} revoked; its token and sessions no longer work", style="green")


@users_app.command("list")
def list_command(store: StoreOption, as_json: JsonOption = False) -> None:
    """List the accounts (never their tokens)."""
    accounts = open_store(store).accounts()
    rows = [{"name": a["name"], "role": a["role"], "towns": a["towns"], "token_id": a["token_id"],
             "status": account_status(a), "created_at": a["created_at"], "expires_at": a["expires_at"],
             "revoked_at": a["revoked_at"]} for a in accounts]
    if as_json:
        print_json({"accounts": rows})
        return
    if not rows:
        print_line("no accounts yet: riskmap users add NAME --role ROLE --store …")
        return
    columns = ["name", "role", "towns", "status", "token id", "created", "expires"]
    print_table("accounts", columns, [[r["name"], r["role"], ", ".join(r["towns"]), r["status"], r["token_id"],
                                       r["created_at"][:10], (r["expires_at"] or "")[:10]] for r in rows])


def register(app: typer.Typer) -> None:
    """Add ``users`` to the riskmap app."""
    app.add_typer(users_app, name="users")
