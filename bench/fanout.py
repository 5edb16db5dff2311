"""Fan-out benchmark (DESIGN §7): one SMS alert to N residents through real workers and a stand-in.

    .venv/bin/python bench/fanout.py [--residents 100000] [--latency 0.1] [--workers 2]
        [--database postgresql+psycopg://…/empty_db] [--results FILE]
    .venv/bin/python bench/fanout.py --fan-out-only --residents 1000000

Measures, in one run: the ceiling (plain aiohttp, 200 requests in flight, against the same
Twilio stand-in), then time to the first SMS, SMS handed over per second, time until every
delivery is `sent`, and the workers' peak RSS. `--fan-out-only` runs only the `alerts` queue:
the time until every delivery row is written and every batch queued, and the worker's RSS.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402

from bench.fanout_setup import (ACCOUNT_SID, AUTH_TOKEN, FINISHED, FROM_NUMBER,  # noqa: E402
                                HANDED_OVER, RssSampler, database_url, delivery_counts,
                                fanned_out_at, fill_residents, log, send_alert, standin_stats,
                                start_redis, start_standin, start_workers, wait_for_workers,
                                worker_env)
from bench.processes import run_cleanly  # noqa: E402
from bench.results import record  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import upgrade, use_audit_key  # noqa: E402

TARGET_RATE = 1700  # DESIGN §7: 100,000 handed over in 60 s, with a little headroom
TARGET_FIRST = 1.0
TARGET_RSS_MB = 250
TARGET_SECONDS = 60.0
TARGET_SHARE = 0.85  # or within 85 % of raw aiohttp on the same stand-in
CEILING_IN_FLIGHT = 200


# -- measuring --------------------------------------------------------------------------------

async def _ceiling(url: str, seconds: float, in_flight: int) -> float:
    endpoint = f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    done = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector,
                                     headers={"Authorization": auth}) as session:
        async def one_slot(slot: int) -> None:
            nonlocal done
            while time.monotonic() < deadline:
                form = {"To": f"+1617555{slot:04d}", "From": FROM_NUMBER, "Body": "ceiling"}
                async with session.post(endpoint, data=form) as response:
                    await response.read()
                    if response.status == 201:
                        done += 1
        started = time.monotonic()
        await asyncio.gather(*(one_slot(i) for i in range(in_flight)))
        elapsed = time.monotonic() - started
        async with session.post(f"{url}/_reset") as response:  # zero the stand-in's counters
            await response.read()
    return done / elapsed



# -- the run ----------------------------------------------------------------------------------

def run(args, workdir: Path, procs: list) -> int:
    db_url, kind = database_url(args.database, workdir)
    started = time.monotonic()
    upgrade(db_url)
    fill_residents(db_url, args.residents)
    log(f"{args.residents:,} residents inserted ({kind}) in {time.monotonic() - started:.1f} s")

    if args.redis_url:
        redis_url = args.redis_url
        redis.Redis.from_url(redis_url).flushdb()
    else:
        redis_url, proc = start_redis(workdir)
        procs.append(proc)
    standin_url, proc = start_standin(args.latency)
    procs.append(proc)
    log(f"Redis {redis_url}, Twilio stand-in {standin_url} answering after {args.latency:g} s")

    ceiling = 0.0
    if not args.fan_out_only:
        ceiling = asyncio.run(_ceiling(standin_url, args.ceiling_seconds, CEILING_IN_FLIGHT))
        log(f"ceiling: {ceiling:,.0f} msg/s (aiohttp, {CEILING_IN_FLIGHT} in flight)")

    env = worker_env(db_url, redis_url, standin_url, workdir, args.concurrency,
                     args.account_concurrency)
    settings = Settings.from_env(env)
    use_audit_key(settings.database_url, settings.audit_key)
    queues = ("alerts",) if args.fan_out_only else ("alerts", "sms")
    workers: list = []
    if not args.burst:  # waiting workers, as in production: start-up is not part of the figures
        workers = start_workers(args.workers, env, False, workdir / "workers.log", queues)
        procs.extend(workers)
        wait_for_workers(redis_url, args.workers, procs=workers)
    alert_id, sent_at = send_alert(settings)
    if args.burst:
        workers = start_workers(args.workers, env, True, workdir / "workers.log", queues)
        procs.extend(workers)
    sampler = RssSampler(workers)
    sampler.start()
    log(f"alert {alert_id} sent to {args.residents:,} residents; {args.workers} workers at it")
    if args.fan_out_only:
        return _fan_out_only(args, db_url, kind, redis_url, alert_id, sent_at, workers,
                             sampler, workdir)

    deadline = time.monotonic() + args.timeout
    counts: dict = {}
    all_sent_at = None
    while time.monotonic() < deadline:
        counts = delivery_counts(db_url, alert_id)
        finished = sum(counts.get(s, 0) for s in FINISHED)
        if finished >= args.residents:
            all_sent_at = time.time()
            break
        if all(w.poll() is not None for w in workers):
            log("every worker has exited before the work was done")
            break
        time.sleep(0.2)
    sampler.stop.set()
    sampler.join()
    stats = standin_stats(standin_url)
    handed = sum(counts.get(s, 0) for s in HANDED_OVER)
    report(args, kind, ceiling, sent_at, all_sent_at, stats, handed, counts, sampler)
    ok = bool(all_sent_at) and handed == args.residents
    if not ok:
        log("not every delivery was handed over; the workers' log ends with:\n"
            + (workdir / "workers.log").read_text(errors="replace")[-3000:])
    return 0 if ok else 1


def _fan_out_only(args, db_url, kind, redis_url, alert_id, sent_at, workers, sampler,
                  workdir) -> int:
    """Wait until the alert is fanned out; report the time and the worker's peak RSS."""
    from rq import Queue

    from workers.queues import SERIALIZER

    deadline = time.monotonic() + args.timeout
    done_at = None
    while time.monotonic() < deadline:
        if fanned_out_at(db_url, alert_id) is not None:
            done_at = time.time()
            break
        if all(w.poll() is not None for w in workers):
            break
        time.sleep(0.1)
    sampler.stop.set()
    sampler.join()
    counts = delivery_counts(db_url, alert_id)
    conn = redis.Redis.from_url(redis_url)
    jobs = sum(Queue(q, connection=conn, serializer=SERIALIZER).count
               for q in ("sms", "emergency-sms"))
    n = args.residents
    total = (done_at - sent_at) if done_at else None
    rss = sampler.peak_one / 2**20
    ok = total is not None and counts.get("pending", 0) == n
    print(f"\nFan-out only ({kind}): {n:,} residents, BATCH_SIZE 1000")
    print(f"{'figure':32} {'measured':>12}   target")
    print(f"{f'{n:,}-resident fan-out':32} {_secs(total):>12}   <= {TARGET_SECONDS:g} s")
    print(f"{'worker peak RSS (one process)':32} {rss:>9,.0f} MB   <= {TARGET_RSS_MB} MB")
    print(f"deliveries by status {dict(sorted(counts.items()))}; {jobs:,} sms jobs queued")
    if args.results:
        label = f"{n:,}-resident fan-out"
        record(args.results, bench="fanout", figure=label, value=round(total or -1, 2),
               unit="s", database=kind, target=f"≤ {TARGET_SECONDS:g} s",
               met=ok and total <= TARGET_SECONDS,
               note=f"rows written and {jobs:,} batches queued; 1 worker on the alerts queue")
        record(args.results, bench="fanout", figure=f"{label}: worker RSS", value=round(rss),
               unit="MB", database=kind, target=f"≤ {TARGET_RSS_MB} MB",
               met=rss <= TARGET_RSS_MB, note="peak RSS of one worker process or work horse")
    if not ok:
        log("the fan-out did not finish; the workers' log ends with:\n"
            + (workdir / "workers.log").read_text(errors="replace")[-3000:])
    return 0 if ok else 1


def report(args, kind, ceiling, sent_at, all_sent_at, stats, handed, counts, sampler) -> None:
    n = args.residents
    first = (stats["first_at"] - sent_at) if stats.get("first_at") else None
    span = (stats["last_at"] - stats["first_at"]) if stats.get("first_at") else 0
    rate = (stats["messages"] / span) if span > 0 else 0.0
    total = (all_sent_at - sent_at) if all_sent_at else None
    raw = n / ceiling if ceiling else None
    target_total = TARGET_SECONDS * n / 100_000  # DESIGN §7: 100,000 in 60 s
    rows = [
        ("SMS handed over per second", f"{rate:,.0f}/s", f"{ceiling:,.0f}/s",
         f">= {TARGET_RATE:,}/s"),
        ("time to the first SMS", _secs(first), "", f"<= {TARGET_FIRST:g} s"),
        (f"all {n:,} handed over", _secs(total), _secs(raw),
         f"<= {target_total:.1f} s or >= {TARGET_SHARE:.0%} of raw"),
        ("worker peak RSS (one process)", f"{sampler.peak_one / 2**20:,.0f} MB", "",
         f"<= {TARGET_RSS_MB} MB"),
        ("workers' peak RSS (all)", f"{sampler.peak_total / 2**20:,.0f} MB", "", ""),
    ]
    print(f"\nFan-out of one SMS alert ({kind}): {n:,} residents, {args.workers} workers, provider "
          f"latency {args.latency:g} s, SMS_CONCURRENCY {args.concurrency}")
    print(f"{'figure':32} {'measured':>12} {'ceiling':>12}   target (DESIGN §7)")
    for name, measured, ceil, target in rows:
        print(f"{name:32} {measured:>12} {ceil:>12}   {target}")
    print(f"deliveries: {handed:,} handed over; by status {dict(sorted(counts.items()))}; "
          f"the stand-in accepted {stats['messages']:,}")
    if ceiling:
        print(f"ratio to the ceiling: {rate / ceiling:.0%}")
    if not args.results:
        return
    share = (raw / total) if (raw and total) else 0.0
    record(args.results, bench="fanout",
           figure=f"{n:,}-resident SMS alert, {args.workers} workers",
           value=round(total or -1, 2), unit="s", database=kind,
           ceiling=round(raw, 2) if raw else None,
           ceiling_label=f"raw aiohttp, {CEILING_IN_FLIGHT} in flight, same stand-in",
           target=f"≤ {target_total:g} s or ≥ {TARGET_SHARE:.0%} of raw",
           met=bool(total) and handed == n and (total <= target_total or share >= TARGET_SHARE),
           note=f"latency {args.latency:g} s, SMS_CONCURRENCY {args.concurrency}, "
                f"TWILIO_ACCOUNT_CONCURRENCY {args.account_concurrency}; "
                f"{share:.0%} of raw; {rate:,.0f} SMS/s")
    record(args.results, bench="fanout", figure="first SMS after send",
           value=round(first, 3) if first is not None else -1, unit="s", database=kind,
           target=f"≤ {TARGET_FIRST:g} s", met=first is not None and first <= TARGET_FIRST,
           note=f"{n:,} residents, {args.workers} workers")


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.1, help="stand-in answer delay (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=100,
                        help="SMS_CONCURRENCY: provider calls in flight per worker")
    parser.add_argument("--account-concurrency", type=int, default=200,
                        help="TWILIO_ACCOUNT_CONCURRENCY (0: off)")
    parser.add_argument("--database", help="an empty database to use (postgresql+psycopg://…); "
                                           "default a fresh SQLite file")
    parser.add_argument("--results", help="append each figure to this file (bench/results.py)")
    parser.add_argument("--fan-out-only", action="store_true",
                        help="only the alerts queue: time to write and queue every delivery")
    parser.add_argument("--redis-url", help="a Redis to use (flushed!) instead of a private one")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many s")
    parser.add_argument("--burst", action="store_true",
                        help="start `python -m workers --burst` after sending (counts start-up)")
    args = parser.parse_args(argv)
    if args.residents < 1 or args.residents > 4_000_000:
        parser.error("--residents must be between 1 and 4,000,000")
    if args.workers < 1 or args.concurrency < 1:
        parser.error("--workers and --concurrency must be at least 1")
    if args.database and not args.database.startswith(("postgresql", "sqlite")):
        parser.error("--database must be a postgresql+psycopg:// or sqlite:/// URL")
    return run_cleanly(lambda workdir, procs: run(args, workdir, procs))


if __name__ == "__main__":
    sys.exit(main())
