"""Import benchmark (DESIGN §7): CSV rows per second through the command line and the API.

    .venv/bin/python bench/import_speed.py [--rows 1000000] [--api-rows 150000]
                                           [--database URL] [--results FILE]

Generates a CSV of realistic residents (valid numbers spelled several ways, some emails, a mix
of languages, channels, home locations and zones, about 1 % duplicate numbers and 2 % rows that
must be rejected: a number not in use, a language nobody knows, a latitude of 95) and times:

- the command line: `python -m notifier import-subscribers FILE`, through the function that
  command calls (`notifier.cli.main`), end to end (file read, validation, writes, report);
- the API: `POST /api/v1/subscribers/import` with the CSV body, through the app's own routes
  (Flask's test client: no HTTP server in the figure);

and prints each next to a CEILING measured in the same run: the same rows (already clean)
written into the same subscribers table the plainest way (executemany on SQLite, COPY on
PostgreSQL), without validation. Exit status 1 when a target is missed.

Without --database a temporary SQLite file is used and removed. With --database (e.g. a scratch
PostgreSQL database) the tables are created if missing and every subscriber is deleted before
each run: never point it at a database whose residents you want to keep.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout, not bench/, first on the path: the benchmarks import the project's packages.
sys.path[0] = str(ROOT)

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.results import record  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import get_engine, use_audit_key  # noqa: E402
from notifier.models import Base  # noqa: E402

CLI_TARGET, API_TARGET = 10_000, 5_000  # rows per second (issue 15, DESIGN §7)
AREAS = ("617", "508", "781", "978", "413", "339", "857", "774", "351", "212", "415", "312")
LANGUAGES = ("en",) * 6 + ("es", "es-MX", "vi", "pt-BR", "zh-Hant", "ht", "fr", "ar", "ru", "ko")
FIRST = ("Ana", "Bo", "Cy", "Dara", "Eli", "Fatima", "Gus", "Hoa", "Ines", "Jun", "Kofi", "Lena")
LAST = ("Lopez", "Nguyen", "Smith", "Okafor", "Silva", "Chen", "Haddad", "Joseph", "Kim", "Ivanova")
SECRET = "bench-secret-key-0123456789abcdef"
AUDIT_KEY = "bench-audit-key-0123456789abcdef"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _phone(rng: random.Random, n: int) -> tuple[str, str]:
    """The n-th distinct valid number: (a spelling of it, its E.164)."""
    area = AREAS[n % len(AREAS)]
    rest = n // len(AREAS)
    exchange, line = 200 + rest // 10_000 % 800, rest % 10_000
    e164 = f"+1{area}{exchange}{line:04d}"
    spelling = rng.choice((f"({area}) {exchange}-{line:04d}", f"{area}-{exchange}-{line:04d}",
                           f"+1 {area} {exchange} {line:04d}", f"{area}{exchange}{line:04d}"))
    return spelling, e164


def make_rows(count: int, seed: int) -> tuple[str, list[tuple]]:
    """(CSV text of `count` data rows, the clean values of the valid ones for the ceiling)."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("name,phone,email,language,channels,lat,lon,zones\n")
    clean = []
    for n in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        reused = n > 100 and rng.random() < 0.01  # a number already in the file: an update
        phone, e164 = _phone(rng, rng.randrange(n) if reused else n + seed * 7_919)
        email = f"r{n}.{seed}@example.org" if rng.random() < 0.3 else ""
        language = rng.choice(LANGUAGES)
        channels = "sms;email" if email and rng.random() < 0.5 else ""
        lat, lon = (f"{42.2 + rng.random() * 0.2:.5f}", f"{-71.2 + rng.random() * 0.2:.5f}") \
            if rng.random() < 0.7 else ("", "")
        zones = ";".join(rng.sample(("beat-1", "beat-2", "beat-3", "ward-4", "ward-5"),
                                    rng.randint(1, 2))) if rng.random() < 0.5 else ""
        bad = rng.random()
        if bad < 0.008:
            phone = f"+1 200 555 {n % 10_000:04d}"  # area code 200 is not in use
        elif bad < 0.014:
            language = "xx"
        elif bad < 0.02:
            lat, lon = "95", "-71.1"
        else:
            clean.append((name, e164, email or None, language,
                          json.dumps(channels.split(";") if channels else
                                     ["sms", "email"] if email else ["sms"])))
        out.write(f"{name},{phone},{email},{language},{channels},{lat},{lon},{zones}\n")
    return out.getvalue(), clean


def prepare(url: str) -> None:
    """Tables in place and no subscriber left from an earlier run."""
    engine = get_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for table in ("locations", "subscriber_zones", "subscriber_groups", "subscriber_topics",
                      "subscribers"):
            conn.execute(text(f"DELETE FROM {table}"))


def ceiling(url: str, clean: list[tuple]) -> float:
    """Rows a second for the same clean rows written into subscribers without validation."""
    prepare(url)
    now = datetime.now(timezone.utc)
    engine = get_engine(url)
    unique = list({row[1]: row for row in clean}.values())
    started = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        columns = "name, phone, email, language, channels, created_at, updated_at"
        if engine.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY subscribers ({columns}) FROM STDIN") as copy:
                for row in unique:
                    copy.write_row((*row, now, now))
        else:
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO subscribers ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(*row, now.isoformat(" "), now.isoformat(" ")) for row in unique])
    elapsed = time.perf_counter() - started
    prepare(url)
    return len(clean) / elapsed


def env_for(url: str, instance: Path) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY,
            "PUBLIC_URL": "http://127.0.0.1:5000", "TOCSIN_INSTANCE": str(instance),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "SEVERITY_CHANNELS": "none"}


def time_cli(url: str, path: Path, env: dict) -> tuple[float, str]:
    """(seconds, the command's output) for `import-subscribers path` run in this process."""
    from notifier import cli

    prepare(url)
    saved = dict(os.environ)
    os.environ.update(env)
    output = io.StringIO()
    try:
        started = time.perf_counter()
        with redirect_stdout(output):
            status = cli.main(["import-subscribers", str(path)])
        elapsed = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if status != 0:
        raise SystemExit(f"import-subscribers failed ({status}): {output.getvalue()}")
    return elapsed, output.getvalue().splitlines()[0]


def time_api(url: str, body: str, env: dict) -> tuple[float, dict]:
    """(seconds, the answer) for one POST of the CSV to /api/v1/subscribers/import."""
    from admin_ui import create_app
    from notifier import accounts
    from notifier.db import session_scope

    prepare(url)
    app = create_app(Settings.from_env(env))
    with session_scope(url) as session:
        token = accounts.create_token(session, f"bench-{time.time_ns()}", "admin",
                                      now=datetime.now(timezone.utc))
    client = app.test_client()
    data = body.encode("utf-8")
    started = time.perf_counter()
    answer = client.post("/api/v1/subscribers/import", data=data,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"API import answered {answer.status_code}: {answer.get_data(True)[:500]}")
    return elapsed, answer.get_json()


def database_label(url: str) -> str:
    return "postgresql" if make_url(url).get_backend_name() == "postgresql" else "sqlite"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="CSV rows for the command line")
    parser.add_argument("--api-rows", type=int, default=150_000, help="CSV rows for the API")
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file in /tmp)")
    parser.add_argument("--results", help="append each figure to this JSON-lines file")
    args = parser.parse_args()
    if args.rows < 1 or args.api_rows < 0:
        parser.error("--rows must be at least 1 and --api-rows at least 0")
    with tempfile.TemporaryDirectory(prefix="tocsin-import-bench-") as scratch:
        url = args.database or f"sqlite:///{scratch}/bench.db"
        use_audit_key(url, AUDIT_KEY)
        env = env_for(url, Path(scratch) / "instance")
        database = database_label(url)
        failed = False
        runs = [("CLI import", args.rows, CLI_TARGET, 1)]
        if args.api_rows:
            runs.append(("API import", args.api_rows, API_TARGET, 2))
        print(f"subscriber import, {database}, {os.cpu_count()} CPUs "
              "(ceiling: the same clean rows written raw, executemany/COPY, no validation)", flush=True)
        for label, count, target, seed in runs:
            log(f"generating {count:,} rows")
            body, clean = make_rows(count, seed)
            path = Path(scratch) / f"residents-{seed}.csv"
            path.write_text(body, encoding="utf-8")
            top = ceiling(url, clean)
            log(f"{label}: importing {count:,} rows")
            if label == "CLI import":
                del body
                seconds, summary = time_cli(url, path, env)
            else:
                seconds, answer = time_api(url, body, env)
                summary = (f"created {answer['created']}, updated {answer['updated']}, "
                           f"rejected {answer['rejected_total']}")
            rate = count / seconds
            met = rate >= target
            failed |= not met
            figure = f"{label}, {count:,} rows"
            print(f"{figure:30} {rate:>9,.0f} rows/s  ({seconds:.1f} s; ceiling {top:,.0f} rows/s, "
                  f"{rate / top:.0%} of it; target ≥ {target:,}/s {'met' if met else 'MISSED'})")
            print(f"{'':30} {summary}")
            record(args.results, bench="import", figure=figure, value=round(rate), unit="rows/s",
                   database=database, ceiling=round(top),
                   ceiling_label="raw executemany/COPY of the same clean rows",
                   target=f"≥ {target:,}/s", met=met, note=summary)
        get_engine(url).dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
