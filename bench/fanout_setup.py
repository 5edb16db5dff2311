"""What the fan-out and scale-out benchmarks share: residents, Redis, the Twilio stand-in,
workers, the alert, and sampling the workers' memory."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import psutil
import redis
from sqlalchemy import func, insert, inspect, select

from bench.processes import tree_cpu_seconds
from notifier.config import Settings
from notifier.db import get_engine, session_scope
from notifier.demo import AREA_CODES
from notifier.models import Alert, Delivery, Location, Subscriber

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+16175550100"
HANDED_OVER = ("sent", "delivered", "undelivered")  # the provider accepted it
FINISHED = HANDED_OVER + ("failed", "skipped", "cancelled")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url(given: str | None, workdir: Path) -> tuple[str, str]:
    """(URL, "sqlite" or "postgresql"): `given`, which must hold no tables yet, else a fresh
    SQLite file in `workdir`. Raises SystemExit with a message for a database in use."""
    if not given:
        return f"sqlite:///{workdir / 'bench.db'}", "sqlite"
    kind = "postgresql" if given.startswith("postgresql") else "sqlite"
    try:
        tables = inspect(get_engine(given)).get_table_names()
    except Exception as exc:  # an unreachable server, a bad URL: say so, no traceback
        raise SystemExit(f"--database {given}: cannot connect ({type(exc).__name__}: {exc})")
    if tables:
        raise SystemExit(f"--database {given}: holds {len(tables)} tables already; "
                         "give an empty database (createdb NAME)")
    return given, kind


# -- set-up -----------------------------------------------------------------------------------

def fill_residents(url: str, count: int) -> None:
    """Bulk-insert `count` SMS residents (valid fictional US numbers, en/es) with a location."""
    now = datetime.now(timezone.utc)
    per_block = 10_000  # lines 0000-9999 of exchange 555 (then 556…) in each area code
    engine = get_engine(url)
    for start in range(0, count, 50_000):
        subscribers, locations = [], []
        for i in range(start, min(count, start + 50_000)):
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
        with engine.begin() as conn:
            conn.execute(insert(Subscriber), subscribers)
            conn.execute(insert(Location), locations)


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
               concurrency: int, account_concurrency: int = 200) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "PUBLIC_URL": "http://127.0.0.1:5000",
        "SECRET_KEY": "bench-secret-key-0123456789abcdef", "TOCSIN_INSTANCE": str(workdir / "instance"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": standin_url,
        "SMS_CONCURRENCY": str(concurrency), "SMS_PER_SECOND": "0", "SANDBOX": "0",
        "TWILIO_ACCOUNT_CONCURRENCY": str(account_concurrency),
        "PYTHONPATH": str(ROOT),
    })
    return env


def start_workers(n: int, env: dict, burst: bool, logfile: Path,
                  queues: tuple[str, ...] = ("alerts", "sms")) -> list[subprocess.Popen]:
    args = [sys.executable, "-m", "workers", *queues] + (["--burst"] if burst else [])
    with open(logfile, "a") as log_handle:  # a file, not a pipe nobody reads: a full pipe blocks
        return [subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                                 stdout=log_handle, stderr=subprocess.STDOUT)
                for _ in range(n)]


def wait_for_workers(redis_url: str, n: int, timeout: float = 30, procs: list | None = None) -> None:
    """Until `n` workers are registered and, given their processes, those are idle too.

    A worker registers before its side processes (healing sweep, callback applier) have finished
    importing; an alert sent then would time their start-up, not a running deployment."""
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=conn)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{n} workers did not register with Redis within {timeout:.0f} s")
        time.sleep(0.1)
    if procs:
        _wait_until_idle(procs, deadline)


def _wait_until_idle(procs: list, deadline: float, busy: float = 0.1) -> None:
    """Until the processes and their children use under `busy` of a core over half a second."""
    def cpu() -> float:
        return tree_cpu_seconds(proc.pid for proc in procs)

    before = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = cpu()
        if after - before < busy * 0.5:
            return
        before = after


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
            "area": {"description": "Everyone", "everyone": True}, "channels": ["sms"],
            "channels_reason": "benchmark of the SMS path alone"}
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


def fanned_out_at(url: str, alert_id: int):
    with session_scope(url, readonly=True) as session:
        return session.scalar(select(Alert.fanned_out_at).where(Alert.id == alert_id))
