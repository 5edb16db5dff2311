"""Scale-out benchmark: N worker processes sharing one Redis (and PostgreSQL) send one SMS alert;
the Twilio stand-in counts what each resident's number got: no duplicate, no gap.

    .venv/bin/python bench/scale_out.py --database postgresql+psycopg://…/empty_db
        [--residents 100000] [--workers 4] [--latency 0.1] [--results FILE]

Measures in one run: the ceiling (raw aiohttp, 200 in flight, same stand-in), the time until
every delivery is handed over, the first SMS after send, the stand-in's peak requests in
flight (TWILIO_ACCOUNT_CONCURRENCY must hold it), and duplicates and gaps per number.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.fanout import CEILING_IN_FLIGHT, _ceiling  # noqa: E402
from bench.fanout_setup import (FINISHED, HANDED_OVER, database_url, delivery_counts,  # noqa: E402
                                fill_residents, log, send_alert, standin_stats, start_redis,
                                start_standin, start_workers, wait_for_workers, worker_env)
from bench.processes import run_cleanly  # noqa: E402
from bench.results import record  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import upgrade, use_audit_key  # noqa: E402

TARGET_FIRST = 1.0


def to_counts(url: str) -> dict[str, int]:
    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/_to_counts") as response:
                return await response.json()
    return asyncio.run(fetch())


def run(args, workdir: Path, procs: list) -> int:
    db_url, kind = database_url(args.database, workdir)
    upgrade(db_url)
    fill_residents(db_url, args.residents)
    redis_url, proc = start_redis(workdir)
    procs.append(proc)
    standin_url, proc = start_standin(args.latency)
    procs.append(proc)
    ceiling = asyncio.run(_ceiling(standin_url, args.ceiling_seconds, CEILING_IN_FLIGHT))
    log(f"{args.residents:,} residents ({kind}); ceiling {ceiling:,.0f} msg/s")
    env = worker_env(db_url, redis_url, standin_url, workdir, args.concurrency,
                     args.account_concurrency)
    settings = Settings.from_env(env)
    use_audit_key(settings.database_url, settings.audit_key)
    workers = start_workers(args.workers, env, False, workdir / "workers.log")
    procs.extend(workers)
    wait_for_workers(redis_url, args.workers, procs=workers)
    alert_id, sent_at = send_alert(settings)
    log(f"alert {alert_id} sent; {args.workers} workers at it")
    deadline = time.monotonic() + args.timeout
    done_at, counts = None, {}
    while time.monotonic() < deadline:
        counts = delivery_counts(db_url, alert_id)
        if sum(counts.get(s, 0) for s in FINISHED) >= args.residents:
            done_at = time.time()
            break
        time.sleep(0.2)
    stats = standin_stats(standin_url)
    per_number = to_counts(standin_url)
    n = args.residents
    handed = sum(counts.get(s, 0) for s in HANDED_OVER)
    duplicates = sum(c - 1 for c in per_number.values() if c > 1)
    gaps = n - len(per_number)
    total = (done_at - sent_at) if done_at else None
    first = (stats["first_at"] - sent_at) if stats.get("first_at") else None
    raw = n / ceiling if ceiling else None
    print(f"\nScale-out ({kind}): {n:,} residents, {args.workers} workers on one Redis, latency "
          f"{args.latency:g} s, SMS_CONCURRENCY {args.concurrency}, "
          f"TWILIO_ACCOUNT_CONCURRENCY {args.account_concurrency}")
    print(f"all handed over       {_secs(total):>10}   raw aiohttp {_secs(raw)}")
    print(f"first SMS after send  {_secs(first):>10}   target <= {TARGET_FIRST:g} s")
    print(f"numbers reached {len(per_number):,} of {n:,}: {gaps:,} gaps, {duplicates:,} "
          f"duplicates; histogram {dict(Counter(per_number.values()))}")
    print(f"peak requests in flight at the stand-in: {stats['max_in_flight']} "
          f"(limit {args.account_concurrency}); deliveries {dict(sorted(counts.items()))}")
    exact = done_at is not None and gaps == 0 and duplicates == 0 and handed == n
    if args.results:
        record(args.results, bench="scale-out",
               figure=f"{n:,}-resident SMS alert, {args.workers} workers", database=kind,
               value=round(total or -1, 2), unit="s", ceiling=round(raw, 2) if raw else None,
               ceiling_label=f"raw aiohttp, {CEILING_IN_FLIGHT} in flight, same stand-in",
               target="each resident exactly once", met=exact,
               note=f"{gaps} gaps, {duplicates} duplicates; peak in flight "
                    f"{stats['max_in_flight']} (limit {args.account_concurrency})")
        record(args.results, bench="scale-out", figure=f"first SMS after send, {args.workers} workers",
               database=kind, value=round(first, 3) if first is not None else -1, unit="s",
               target=f"≤ {TARGET_FIRST:g} s", met=first is not None and first <= TARGET_FIRST)
    if not exact:
        log("not exactly once; the workers' log ends with:\n"
            + (workdir / "workers.log").read_text(errors="replace")[-3000:])
    return 0 if exact else 1


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1, help="stand-in answer delay (s)")
    parser.add_argument("--concurrency", type=int, default=100, help="SMS_CONCURRENCY")
    parser.add_argument("--account-concurrency", type=int, default=200,
                        help="TWILIO_ACCOUNT_CONCURRENCY")
    parser.add_argument("--database", help="an empty database (postgresql+psycopg://…); "
                                           "default a fresh SQLite file")
    parser.add_argument("--results", help="append each figure to this file (bench/results.py)")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if not 1 <= args.residents <= 4_000_000:
        parser.error("--residents must be between 1 and 4,000,000")
    if min(args.workers, args.concurrency, args.account_concurrency) < 1:
        parser.error("--workers, --concurrency and --account-concurrency must be at least 1")
    return run_cleanly(lambda workdir, procs: run(args, workdir, procs))


if __name__ == "__main__":
    sys.exit(main())
