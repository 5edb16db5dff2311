"""Fan-out benchmark (DESIGN §7): one SMS alert to N residents through real workers and a stand-in.

    .venv/bin/python bench/fanout.py [--residents 100000] [--latency 0.1] [--workers 2]

Measures, in one run: the ceiling (plain aiohttp, 200 requests in flight, against the same
Twilio stand-in), then time to the first SMS, SMS handed over per second, time until every
delivery is `sent`, and the workers' peak RSS. Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.processes import run_cleanly  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import get_engine, session_scope, upgrade, use_audit_key  # noqa: E402
from notifier.demo import AREA_CODES  # noqa: E402
from notifier.models import Delivery, Location, Subscriber  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+16175550100"
TARGET_RATE = 1700  # DESIGN §7: 100,000 handed over in 60 s, with a little headroom
TARGET_FIRST = 1.0
TARGET_RSS_MB = 250
CEILING_IN_FLIGHT = 200
HANDED_OVER = ("sent", "delivered", "undelivered")  # the provider accepted it
FINISHED = HANDED_OVER + ("failed", "skipped", "cancelled")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- set-up -----------------------------------------------------------------------------------

def fill_residents(url: str, count: int) -> None:
    """Bulk-insert `count` SMS residents (valid fictional US numbers, en/es) with a location."""
    now = datetime.now(timezone.utc)
    per_block = 10_000  # lines 0000-9999 of exchange 555 (then 556…) in each area code
    subscribers, locations = [], []
    for i in range(count):
        block, line = divmod(i, per_block)
        npa = AREA_CODES[block % len(AREA_CODES)]
        exchange = 555 + block // len(AREA_CODES)
        sub_id = i + 1
        subscribers.append({"id": sub_id, "name": f"Resident {sub_id}",
                            "phone": f"+1{npa}{exchange}{line:04d}", "email": None,
                            "language": "es" if i % 5 == 0 else "en", "channels": ["sms"],
                            "created_at": now, "updated_at": now})
        locations.append({"subscriber_id": sub_id, "label": "home",
                          "lat": 42.34 + (i % 997) * 4e-5, "lon": -71.09 + (i % 991) * 6e-5})
    engine = get_engine(url)
    with engine.begin() as conn:
        for start in range(0, count, 50_000):
            conn.execute(insert(Subscriber), subscribers[start:start + 50_000])
            conn.execute(insert(Location), locations[start:start + 50_000])


def start_redis(workdir: Path) -> tuple[str, subprocess.Popen]:
    from tests.support.services import start_bundled_redis

    url, proc = start_bundled_redis(workdir)
    return f"{url}/0", proc


def start_standin(latency: float) -> tuple[str, subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.twilio_standin", "--port", "0",
         "--latency", str(latency), "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        raise RuntimeError("the Twilio stand-in did not start")
    return url, proc


def worker_env(db_url: str, redis_url: str, standin_url: str, workdir: Path,
               concurrency: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "PUBLIC_URL": "http://127.0.0.1:5000",
        "SECRET_KEY": "bench-secret-key-0123456789abcdef", "TOCSIN_INSTANCE": str(workdir / "instance"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": standin_url,
        "SMS_CONCURRENCY": str(concurrency), "SMS_PER_SECOND": "0", "SANDBOX": "0",
        "PYTHONPATH": str(ROOT),
    })
    return env


def start_workers(n: int, env: dict, burst: bool, logfile: Path) -> list[subprocess.Popen]:
    args = [sys.executable, "-m", "workers", "alerts", "sms"] + (["--burst"] if burst else [])
    with open(logfile, "a") as log_handle:  # a file, not a pipe nobody reads: a full pipe blocks
        return [subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                                 stdout=log_handle, stderr=subprocess.STDOUT)
                for _ in range(n)]


def wait_for_workers(redis_url: str, n: int, timeout: float = 30) -> None:
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(Worker.all(connection=conn)) >= n:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{n} workers did not register with Redis within {timeout:.0f} s")


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


def standin_stats(url: str) -> dict:
    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/_stats") as response:
                return await response.json()
    return asyncio.run(fetch())


class RssSampler(threading.Thread):
    """Samples the RSS of the worker processes and the work horses they fork."""

    def __init__(self, procs: list[subprocess.Popen]):
        super().__init__(daemon=True)
        self.pids = [p.pid for p in procs]
        self.peak_one = self.peak_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            sizes = []
            for pid in self.pids:
                try:
                    parent = psutil.Process(pid)
                    for proc in [parent, *parent.children(recursive=True)]:
                        sizes.append(proc.memory_info().rss)
                except psutil.Error:
                    continue
            if sizes:
                self.peak_one = max(self.peak_one, max(sizes))
                self.peak_total = max(self.peak_total, sum(sizes))


def send_alert(settings: Settings, actor: str = "bench") -> tuple[int, float]:
    """Create an SMS alert to everyone, start sending it and queue the fan-out; (id, send time)."""
    from notifier import alerts
    from notifier.schemas import load_alert
    from workers.queues import enqueue_fan_out

    body = {"headline": "Boil water notice", "event": "Boil Water Advisory",
            "messages": {"en": "Boil tap water for 1 minute before drinking until further notice.",
                         "es": "Hierva el agua del grifo 1 minuto antes de beberla hasta nuevo aviso."},
            "category": "Health", "severity": "Moderate", "urgency": "Expected",
            "certainty": "Likely", "status": "Actual", "msg_type": "Alert",
            "area": {"description": "Everyone", "everyone": True}, "channels": ["sms"]}
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        alert = alerts.create_alert(session, load_alert(body, settings, set(), now), actor, now)
        alert_id = alert.id
    sent_at = time.time()
    with session_scope(settings.database_url) as session:
        # An alert to everyone needs a second person's approval (the two-person rule).
        alerts.approve(session, alert_id, f"{actor}-second", "admin", datetime.now(timezone.utc))
        alerts.start_sending(session, alert_id, actor, datetime.now(timezone.utc), settings)
    enqueue_fan_out(settings, alert_id)
    return alert_id, sent_at


def delivery_counts(url: str, alert_id: int) -> dict:
    with session_scope(url, readonly=True) as session:
        rows = session.execute(select(Delivery.status, func.count()).where(
            Delivery.alert_id == alert_id).group_by(Delivery.status)).all()
    return dict(rows)


# -- the run ----------------------------------------------------------------------------------

def run(args, workdir: Path, procs: list[subprocess.Popen]) -> int:
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    started = time.monotonic()
    upgrade(db_url)
    fill_residents(db_url, args.residents)
    log(f"{args.residents:,} residents inserted in {time.monotonic() - started:.1f} s")

    if args.redis_url:
        redis_url = args.redis_url
        redis.Redis.from_url(redis_url).flushdb()
    else:
        redis_url, proc = start_redis(workdir)
        procs.append(proc)
    standin_url, proc = start_standin(args.latency)
    procs.append(proc)
    log(f"Redis {redis_url}, Twilio stand-in {standin_url} answering after {args.latency:g} s")

    ceiling = asyncio.run(_ceiling(standin_url, args.ceiling_seconds, CEILING_IN_FLIGHT))
    log(f"ceiling: {ceiling:,.0f} msg/s (aiohttp, {CEILING_IN_FLIGHT} in flight)")

    env = worker_env(db_url, redis_url, standin_url, workdir, args.concurrency)
    settings = Settings.from_env(env)
    use_audit_key(settings.database_url, settings.audit_key)
    workers: list[subprocess.Popen] = []
    if not args.burst:  # waiting workers, as in production: start-up is not part of the figures
        workers = start_workers(args.workers, env, False, workdir / "workers.log")
        procs.extend(workers)
        wait_for_workers(redis_url, args.workers)
    alert_id, sent_at = send_alert(settings)
    if args.burst:
        workers = start_workers(args.workers, env, True, workdir / "workers.log")
        procs.extend(workers)
    sampler = RssSampler(workers)
    sampler.start()
    log(f"alert {alert_id} sent to {args.residents:,} residents; {args.workers} workers at it")

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
    report(args, ceiling, sent_at, all_sent_at, stats, handed, counts, sampler)
    ok = bool(all_sent_at) and handed == args.residents
    if not ok:
        log("not every delivery was handed over; the workers' log ends with:\n"
            + (workdir / "workers.log").read_text(errors="replace")[-3000:])
    return 0 if ok else 1


def report(args, ceiling, sent_at, all_sent_at, stats, handed, counts, sampler) -> None:
    n = args.residents
    first = (stats["first_at"] - sent_at) if stats.get("first_at") else None
    span = (stats["last_at"] - stats["first_at"]) if stats.get("first_at") else 0
    rate = (stats["messages"] / span) if span > 0 else 0.0
    total = (all_sent_at - sent_at) if all_sent_at else None
    target_total = 60 * n / 100_000  # DESIGN §7: 100,000 in 60 s
    rows = [
        ("SMS handed over per second", f"{rate:,.0f}/s", f"{ceiling:,.0f}/s",
         f">= {TARGET_RATE:,}/s"),
        ("time to the first SMS", _secs(first), "", f"<= {TARGET_FIRST:g} s"),
        (f"all {n:,} handed over", _secs(total), _secs(n / ceiling if ceiling else None),
         f"<= {target_total:.1f} s" + (" (60 s per 100k)" if n != 100_000 else "")),
        ("worker peak RSS (one process)", f"{sampler.peak_one / 2**20:,.0f} MB", "",
         f"<= {TARGET_RSS_MB} MB"),
        ("workers' peak RSS (all)", f"{sampler.peak_total / 2**20:,.0f} MB", "", ""),
    ]
    print(f"\nFan-out of one SMS alert: {n:,} residents, {args.workers} workers, provider "
          f"latency {args.latency:g} s, SMS_CONCURRENCY {args.concurrency}")
    print(f"{'figure':32} {'measured':>12} {'ceiling':>12}   target (DESIGN §7)")
    for name, measured, ceil, target in rows:
        print(f"{name:32} {measured:>12} {ceil:>12}   {target}")
    print(f"deliveries: {handed:,} handed over; by status {dict(sorted(counts.items()))}; "
          f"the stand-in accepted {stats['messages']:,}")
    if ceiling:
        print(f"ratio to the ceiling: {rate / ceiling:.0%}")


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.1, help="stand-in answer delay (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=100,
                        help="SMS_CONCURRENCY: provider calls in flight per worker")
    parser.add_argument("--redis-url", help="a Redis to use (flushed!) instead of a private one")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many s")
    parser.add_argument("--burst", action="store_true",
                        help="start `python -m workers --burst` after sending (counts start-up)")
    args = parser.parse_args(argv)
    if args.residents < 1 or args.residents > 4_000_000:
        parser.error("--residents must be between 1 and 4,000,000")

    return run_cleanly(lambda workdir, procs: run(args, workdir, procs))

if __name__ == "__main__":
    sys.exit(main())
