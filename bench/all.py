"""`make bench-all`: every benchmark, on SQLite and (when it answers) PostgreSQL, in one table.

    .venv/bin/python bench/all.py [--quick] [--only fanout,preview] [--no-postgres]
                                  [--postgres URL] [--readme] [--results FILE]

Runs each benchmark as its own process with `--results`, one after the other (two at once would
measure each other), each PostgreSQL run on a fresh database of its own. Every figure is
printed next to the ceiling its benchmark measured in the same run. `--quick` uses small sizes
(a smoke run, minutes; its figures say nothing about the targets); `--readme` writes the table
into README.md between the bench-all markers. Exit 1 when a benchmark fails to run; a missed
target is shown in the table, not in the exit code. Standalone: not a test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench import results, table  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BOTH, SQLITE, POSTGRES, NONE = ("sqlite", "postgresql"), ("sqlite",), ("postgresql",), ("-",)
# name: (script, full-size arguments, --quick arguments, databases)
BENCHES = {
    "fanout": ("fanout.py", ["--residents", "100000", "--workers", "2"],
               ["--residents", "3000", "--workers", "2"], BOTH),
    "fanout-1m": ("fanout.py", ["--residents", "1000000", "--fan-out-only", "--workers", "1"],
                  ["--residents", "20000", "--fan-out-only", "--workers", "1"], BOTH),
    "scale-out": ("scale_out.py", ["--residents", "100000", "--workers", "4"],
                  ["--residents", "3000", "--workers", "4"], POSTGRES),
    "preview": ("targeting.py", ["--residents", "1000000"],
                ["--residents", "20000", "--repeat", "2"], BOTH),
    "import": ("import_speed.py", ["--rows", "1000000", "--api-rows", "150000"],
               ["--rows", "20000", "--api-rows", "5000"], BOTH),
    "callbacks": ("callbacks.py", ["--callbacks", "20000"], ["--callbacks", "2000"], BOTH),
    "email": ("email_throughput.py", ["--messages", "5000"], ["--messages", "500"], NONE),
}


def postgres_answers(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "PostgreSQL is not here"
        return False


@contextmanager
def fresh_postgres(url: str, name: str):
    """A new empty database beside `url`'s, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    database = f"tocsin_bench_{name.replace('-', '_')}_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(url).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def run_one(name: str, database: str, argv: list[str], out: str, postgres: str) -> int:
    script = str(ROOT / "bench" / BENCHES[name][0])
    where = "no database" if database == "-" else table.DATABASES[database]
    print(f"\n==> {name} ({where}): {' '.join(argv)}", flush=True)
    started = time.monotonic()
    if database == "postgresql":
        with fresh_postgres(postgres, name) as url:
            code = subprocess.call([sys.executable, script, *argv, "--database", url,
                                    "--results", out], cwd=ROOT)
    else:
        code = subprocess.call([sys.executable, script, *argv, "--results", out], cwd=ROOT)
    print(f"==> {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/all.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(BENCHES)}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="a PostgreSQL server to create scratch databases on")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--results", help="keep the figures in this JSON-lines file")
    args = parser.parse_args(argv)
    names = list(BENCHES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHES]
        if unknown:
            parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    with_postgres = not args.no_postgres and postgres_answers(args.postgres)
    if not args.no_postgres and not with_postgres:
        print(f"PostgreSQL does not answer at {args.postgres}: SQLite only.", flush=True)
    out = args.results or tempfile.mkstemp(prefix="tocsin-bench-", suffix=".jsonl")[1]
    Path(out).write_text("")
    failed = []
    for name in names:
        script, full, quick, databases = BENCHES[name]
        for database in databases:
            if database == "postgresql" and not with_postgres:
                continue
            before = len(results.read(out))
            code = run_one(name, database, quick if args.quick else full, out, args.postgres)
            if len(results.read(out)) == before:
                failed.append(f"{name} ({table.DATABASES[database]}, exit {code})")
                results.record(out, bench=name, figure="did not run to the end", value=None,
                               unit="", database=database, note=f"exit {code}")
    when = time.strftime("%Y-%m-%d") + (" (--quick sizes: not the targets' sizes)" if args.quick else "")
    text = table.render(results.read(out), results.machine(), when)
    print("\n" + text)
    if args.readme:
        readme = ROOT / "README.md"
        readme.write_text(table.replace_block(readme.read_text(encoding="utf-8"), text),
                          encoding="utf-8")
        print("README.md: table written between the bench-all markers.")
    if failed:
        print("did not finish: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
