"""`make test`: the suite on SQLite, then on PostgreSQL when one answers; exit 5 (no tests) fails."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A backstop beside pytest-timeout's per-test limit: CI has 90 minutes for everything.
PASS_TIMEOUT = int(os.environ.get("TEST_PASS_TIMEOUT", "1500"))


def postgres_answers(url: str) -> str | None:
    """None when PostgreSQL at `url` accepts a query, else the reason it does not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "skip", with the reason shown
        return " ".join(str(getattr(exc, "orig", exc)).split())[:200]


def kill_tree(pid: int) -> None:
    """Kill pytest and what it started (xdist workers, servers), children first."""
    import psutil

    try:
        parent = psutil.Process(pid)
        for proc in [*parent.children(recursive=True), parent]:
            proc.kill()
    except psutil.Error:
        pass


def pytest(label: str, args: list[str], extra_env: dict) -> int:
    print(f"\n==> tests on {label}: pytest {' '.join(args)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=ROOT,
                            env={**os.environ, **extra_env})
    try:
        code = proc.wait(PASS_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"==> {label}: still running after {PASS_TIMEOUT} s; stopped", flush=True)
        kill_tree(proc.pid)
        proc.wait()
        code = 124
    print(f"==> {label}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    if code == 5:
        print(f"==> {label}: pytest collected no tests; that is a failure here", flush=True)
    return code


def main(argv: list[str]) -> int:
    args = argv or ["-q", "-n", os.environ.get("TEST_PROCESSES", "2")]
    results = {"SQLite": pytest("SQLite", args, {"TEST_DATABASE": "sqlite"})}
    pg_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    reason = postgres_answers(pg_url)
    if reason is None:
        # The browser tests drive pages whose SQL the test-client tests already run on
        # PostgreSQL; run once (on SQLite), they keep both passes within CI's 15 minutes.
        pg_args = args if argv else [*args, "-m", "not browser"]
        results["PostgreSQL"] = pytest("PostgreSQL", pg_args, {"TEST_DATABASE": "postgresql",
                                                               "TEST_POSTGRES_URL": pg_url})
    else:
        print(f"\n==> PostgreSQL pass SKIPPED: nothing answers at {pg_url} ({reason}).\n"
              "    Set TEST_POSTGRES_URL or start PostgreSQL to run it.", flush=True)
    print("\n==> summary: " + ", ".join(
        f"{name} {'passed' if code == 0 else f'FAILED (exit {code})'}"
        for name, code in results.items()) + ("" if reason is None else ", PostgreSQL skipped"))
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
