"""The `python -m notifier` command line (DESIGN §6): one function per command, one-line errors."""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from notifier.accounts import ROLES
from notifier.config import Settings
from notifier.errors import Conflict, InvalidInput, NotFound, TocsinError
from notifier.redact import safe_url

IMPORT_CHUNK = 2000  # rows per transaction: big enough to be fast, small enough to show progress
SHOW_REJECTED = 10


class CommandError(Exception):
    """A failure the user can fix; printed as one line, exit status `status`."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _say(*parts) -> None:
    print(*parts, flush=True)


def _errors_line(errors) -> str:
    """Flatten {"field": ["message", …]} (possibly nested) into `field: message; …`."""
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {_errors_line(value)}" for key, value in errors.items())
    if isinstance(errors, (list, tuple)):
        return ", ".join(_errors_line(item) for item in errors)
    return str(errors)


# -- commands --------------------------------------------------------------------------------

def cmd_init_db(args, settings: Settings) -> int:
    from notifier.db import upgrade

    upgrade(settings.database_url)
    _say(f"Database ready (schema at the newest revision): {safe_url(settings.database_url)}")
    return 0


def _read_password(args) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to prompt for a password; use --password-stdin")
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise CommandError("the two passwords differ")
    if not password:
        raise CommandError("the password is empty")
    return password


def cmd_create_user(args, settings: Settings) -> int:
    from notifier import accounts
    from notifier.db import session_scope

    password = _read_password(args)
    with session_scope(settings.database_url) as session:
        if _user_exists(session, args.name):
            raise CommandError(f"a user named {args.name!r} already exists")
        accounts.create_user(session, args.name, args.role, password, now=utcnow())
    _say(f"Created user {args.name!r} with role {args.role}.")
    return 0


def cmd_create_token(args, settings: Settings) -> int:
    from notifier import accounts
    from notifier.db import session_scope

    with session_scope(settings.database_url) as session:
        token = accounts.create_token(session, args.name, args.role, now=utcnow())
    # The token is stored hashed: this is the only time anyone sees it. Last word, for scripts.
    _say(f"API token {args.name!r} (role {args.role}); it is shown only once, keep it safe:")
    _say(token)
    return 0


def cmd_bootstrap(args, settings: Settings) -> int:
    """First run only: an `admin` user with a random password and an admin API token."""
    from sqlalchemy import func, select

    from notifier import accounts
    from notifier.db import session_scope
    from notifier.models import User

    with session_scope(settings.database_url) as session:
        if session.scalar(select(func.count()).select_from(User)):
            _say("Users exist already; sign in with yours (python -m notifier create-user … adds more).")
            return 0
        password = secrets.token_urlsafe(12)
        now = utcnow()
        accounts.create_user(session, "admin", "admin", password, now=now)
        token = accounts.create_token(session, "admin", "admin", now=now)
    bar = "=" * 72
    _say(bar)
    _say("First run: created the administrator. Shown ONCE; write them down now.")
    _say("  user:      admin")
    _say(f"  password:  {password}")
    _say(f"  API token: {token}")
    _say(f"  try:       curl -H 'Authorization: Bearer {token}' {settings.public_url}/api/v1/alerts")
    _say(bar)
    return 0


def cmd_import_subscribers(args, settings: Settings) -> int:
    """Stream the file in (notifier.import_file): one transaction per batch, a progress bar."""
    from tqdm import tqdm

    from notifier import import_file

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    bars: list = []  # made at the first batch, once the validating processes are forked

    def step(rows: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="row", file=sys.stderr, disable=None, leave=False))
        bars[0].update(rows)

    try:
        totals = import_file.import_csv_file(path, settings, keep=SHOW_REJECTED, progress=step)
    except import_file.NotUtf8:
        raise CommandError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except import_file.ImportStopped as stop:
        done = stop.totals
        kept = "nothing was imported" if stop.first_row == 1 else (
            f"rows 1-{stop.first_row - 1:,} were imported and stay (created {done['created']}, "
            f"updated {done['updated']}, rejected {done['rejected_total']}); importing the file "
            "again updates those rows and adds the rest")
        raise CommandError(f"stopped at rows {stop.first_row:,}-{stop.last_row:,} "
                           f"({describe(stop.cause)}): {kept}.") from None
    finally:
        for bar in bars:
            bar.close()
    _say(f"created {totals['created']}, updated {totals['updated']}, "
         f"rejected {totals['rejected_total']} (of {totals['rows']} rows)")
    for reject in totals["rejected"][:SHOW_REJECTED]:
        _say(f"  row {reject.get('row')}: {_errors_line(reject.get('errors', {}))}")
    if totals["rejected_total"] > SHOW_REJECTED:
        _say(f"  … and {totals['rejected_total'] - SHOW_REJECTED} more rejected rows")
    return 0


def cmd_import_zones(args, settings: Settings) -> int:
    import json

    from tqdm import tqdm

    from notifier.db import session_scope
    from notifier.zones import import_zones

    path = Path(args.file)
    try:
        collection = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: not GeoJSON ({exc})") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    with tqdm(total=len(features) if isinstance(features, list) else 0, unit="zone",
              file=sys.stderr, disable=None, leave=False) as bar:
        with session_scope(settings.database_url) as session:
            result = import_zones(session, collection, utcnow(), progress=bar.update)
    _say(f"zones: created {result['created']}, updated {result['updated']}, "
         f"rejected {len(result['rejected'])}")
    for reject in result["rejected"][:SHOW_REJECTED]:
        _say(f"  feature {reject['feature']} ({reject['code'] or 'no code'}): "
             f"{_errors_line(reject['errors'])}")
    if len(result["rejected"]) > SHOW_REJECTED:
        _say(f"  … and {len(result['rejected']) - SHOW_REJECTED} more rejected features")
    return 0


def _import_in_chunks(rows: list, settings: Settings, import_subscribers: Callable) -> dict:
    """Import `rows` a chunk per transaction with a progress bar on stderr; row numbers stay global."""
    from tqdm import tqdm

    from notifier.db import session_scope

    totals = {"created": 0, "updated": 0, "rejected": []}
    with tqdm(total=len(rows), unit="row", file=sys.stderr, disable=None, leave=False) as bar:
        for start in range(0, len(rows), IMPORT_CHUNK):
            chunk = rows[start:start + IMPORT_CHUNK]
            with session_scope(settings.database_url) as session:
                result = import_subscribers(session, chunk, settings, utcnow())
            totals["created"] += result["created"]
            totals["updated"] += result["updated"]
            for reject in result["rejected"]:
                reject = dict(reject)
                if isinstance(reject.get("row"), int):
                    reject["row"] += start
                totals["rejected"].append(reject)
            bar.update(len(chunk))
    return totals


def cmd_demo(args, settings: Settings) -> int:
    from collections import Counter

    from sqlalchemy import func, select

    from notifier import demo
    from notifier.db import session_scope
    from notifier.models import Subscriber, SubscriberGroup
    from notifier.subscriptions import import_subscribers

    with session_scope(settings.database_url) as session:
        zones = demo.load_zones(session, utcnow())
    rows = demo.residents()
    totals = _import_in_chunks(rows, settings, import_subscribers)
    if totals["rejected"]:
        first = totals["rejected"][0]
        raise CommandError(f"{len(totals['rejected'])} sample residents were rejected, e.g. row "
                           f"{first.get('row')}: {_errors_line(first.get('errors', {}))}")
    with session_scope(settings.database_url, readonly=True) as session:
        subscribers = session.scalar(select(func.count()).select_from(Subscriber))
        testers = session.scalar(select(func.count()).select_from(SubscriberGroup)
                                 .where(SubscriberGroup.name == "test"))
    languages = Counter(row["language"] for row in rows)
    _say(f"{demo.TOWN} loaded: {zones} zones (beat-1 … beat-{zones}), {len(rows)} sample residents "
         f"({totals['created']} new, {totals['updated']} refreshed); {subscribers} subscribers in "
         f"all, {testers} in the 'test' group.")
    _say("Languages: " + ", ".join(f"{k} {v}" for k, v in languages.most_common()))
    return 0


def _user_exists(session, name: str) -> bool:
    from sqlalchemy import select

    from notifier.models import User

    return session.scalar(select(User.id).where(User.name == name)) is not None


# -- wiring ----------------------------------------------------------------------------------

def build_parser(extra: dict[str, tuple[str, Callable]] | None = None) -> argparse.ArgumentParser:
    """The parser; `extra` maps further command names to (help, handler) (see __main__.py)."""
    parser = argparse.ArgumentParser(prog="python -m notifier", description="Tocsin administration.")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("init-db", help="create or migrate the database").set_defaults(run=cmd_init_db)

    p = sub.add_parser("create-user", help="add a person who signs in to the pages")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(run=cmd_create_user)

    p = sub.add_parser("create-token", help="add an API token (printed once)")
    p.add_argument("name", help="what the token is for, e.g. cad-integration")
    p.add_argument("--role", required=True, choices=ROLES)
    p.set_defaults(run=cmd_create_token)

    p = sub.add_parser("import-subscribers", help="import residents from a CSV file")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(run=cmd_import_subscribers)

    from notifier.address_cli import cmd_import_addresses

    p = sub.add_parser("import-addresses", help="create or update address points from a CSV file "
                       "(address,lat,lon,zone)")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(run=cmd_import_addresses)

    p = sub.add_parser("import-zones", help="create or replace zones from a GeoJSON FeatureCollection")
    p.add_argument("file", metavar="FILE.geojson")
    p.set_defaults(run=cmd_import_zones)

    sub.add_parser("demo", help="load a sample town (zones and a few thousand residents)"
                   ).set_defaults(run=cmd_demo)
    sub.add_parser("bootstrap", help="first run: create the admin user and token, print them once"
                   ).set_defaults(run=cmd_bootstrap)
    for name, (help_text, handler) in (extra or {}).items():
        sub.add_parser(name, help=help_text).set_defaults(run=handler)
    return parser


def main(argv: list[str] | None = None, extra: dict[str, tuple[str, Callable]] | None = None) -> int:
    """Run one command; every failure becomes one line on stderr and a non-zero status."""
    parser = build_parser(extra)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        from notifier.db import use_audit_key

        use_audit_key(settings.database_url, settings.audit_key)
        return args.run(args, settings) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the point is that nobody sees a traceback
        if args.traceback:
            traceback.print_exc()
        print(f"error: {describe(exc)}", file=sys.stderr)
        return getattr(exc, "status", 1)


def describe(exc: BaseException) -> str:
    """One line that says what went wrong, for any exception the commands may raise."""
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

    if isinstance(exc, InvalidInput):
        text = _errors_line(exc.errors)
    elif isinstance(exc, Conflict):
        text = exc.message
    elif isinstance(exc, NotFound):
        text = str(exc) or "not found"
    elif isinstance(exc, (CommandError, TocsinError)):  # ConfigError names the variable
        text = str(exc)
    elif isinstance(exc, IntegrityError):
        text = f"already exists or conflicts with stored data ({exc.orig})"
    elif isinstance(exc, OperationalError):
        text = f"database unavailable or not initialised (run init-db): {exc.orig}"
    elif isinstance(exc, SQLAlchemyError):
        text = f"database error: {exc}"
    elif isinstance(exc, OSError):
        text = f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}"
    else:
        text = f"{type(exc).__name__}: {exc} (run with --traceback for details)"
    return " ".join(text.split())  # exactly one line
