"""Status-callback benchmark (DESIGN §7): signed Twilio callbacks applied per second.

    .venv/bin/python bench/callbacks.py [--callbacks 20000] [--concurrency 50]
                                        [--gunicorn-workers 2] [--threads 4]
                                        [--database URL] [--results FILE]

Builds a database (a fresh SQLite file, or `--database`, e.g. a fresh PostgreSQL one) with N
deliveries `sent` (provider ids `SM…`) for one alert, starts the real app under gunicorn
(gthread, as the Procfile does) and one `python -m workers` (the Procfile's worker, whose
applier moves queued callbacks into the database), then measures in one run: the ceiling (the
same client, the same server, the same form posted with a wrong signature, refused with 403
before any database work: Flask + gunicorn + signature check), then one signed
`MessageStatus=delivered` callback per delivery. The figure is callbacks APPLIED per second:
from the first post until the last one is in the database (the Redis lists empty, the rows
`delivered`), not merely accepted. Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.applier import cpu_by_process, start_worker, wait_applied  # noqa: E402
from bench.processes import run_cleanly, tree_cpu_seconds  # noqa: E402
from bench.results import record  # noqa: E402
from bench.web_server import gunicorn_log_tail, serve  # noqa: E402
from notifier.db import get_engine, upgrade  # noqa: E402
from notifier.models import Alert, Delivery  # noqa: E402
from notifier.redact import safe_url  # noqa: E402
from workers import callback_queue  # noqa: E402

ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+16175550100"
# Twilio signs the public URL it was given; the app sits behind a proxy, so this is not ours.
PUBLIC_URL = "https://alerts.example.org"
STATUS_PATH = "/webhooks/twilio/status"
TARGET_RATE = 1500  # DESIGN §7: signed status callbacks applied per second, 2 cores
TARGET_RATIO = 0.70  # … or this share of the same server refusing the same posts
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"  # tests use 10-15, `make run` uses 0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- set-up -----------------------------------------------------------------------------------

def fill_deliveries(url: str, count: int) -> tuple[int, list[tuple[int, str, str]]]:
    """One sent SMS alert with `count` deliveries `sent`; (alert id, [(id, sid, phone)])."""
    now = datetime.now(timezone.utc)
    engine = get_engine(url)
    with engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(Delivery.id), 0))).scalar()
        alert_id = conn.execute(insert(Alert).values(
            identifier=f"urn:oid:bench.callbacks.{secrets.token_hex(4)}", state="sent",
            status="Actual", msg_type="Alert", category="Safety", event="Bench",
            headline="Callback benchmark", severity="Minor", urgency="Expected",
            certainty="Likely", messages={"en": "Callback benchmark"},
            area={"description": "Everyone", "everyone": True}, channels=["sms"],
            created_by="bench", created_at=now, sent_at=now, fanned_out_at=now,
        )).inserted_primary_key[0]
        rows = [{"id": i, "alert_id": alert_id, "subscriber_id": None, "channel": "sms",
                 "address": f"+1617{555 + i // 10_000}{i % 10_000:04d}", "language": "en",
                 "status": "sent", "provider_id": "SM" + secrets.token_hex(16), "attempts": 1,
                 "queued_at": now, "sent_at": now, "updated_at": now}
                for i in range(first + 1, first + count + 1)]
        for start in range(0, count, 10_000):
            conn.execute(insert(Delivery), rows[start:start + 10_000])
    return alert_id, [(r["id"], r["provider_id"], r["address"]) for r in rows]


def callback_form(sid: str, to: str, status: str = "delivered") -> dict[str, str]:
    """The form Twilio posts to a message's StatusCallback."""
    return {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": to,
            "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": FROM_NUMBER,
            "ApiVersion": "2010-04-01"}


def prepare(targets: list[tuple[int, str, str]]) -> list[tuple[str, bytes, str]]:
    """(path + query, urlencoded body, X-Twilio-Signature) per delivery, signed in advance."""
    validator = RequestValidator(AUTH_TOKEN)
    prepared = []
    for delivery_id, sid, phone in targets:
        path = f"{STATUS_PATH}?d={delivery_id}"
        form = callback_form(sid, phone)
        signature = validator.compute_signature(PUBLIC_URL + path, form)
        prepared.append((path, urlencode(form).encode(), signature))
    return prepared


def pick_redis(url: str, workdir: Path, procs: list[subprocess.Popen]) -> str:
    """`url` when it answers (its DB index is flushed), else a private bundled Redis."""
    try:
        conn = redis.Redis.from_url(url, socket_connect_timeout=1)
        conn.flushdb()  # only this index: the others belong to `make run` and the tests
        conn.close()
        return url
    except (redis.RedisError, OSError):
        from tests.support.services import start_bundled_redis

        bundled, proc = start_bundled_redis(workdir)
        procs.append(proc)
        return f"{bundled}/0"


def _flush_quietly(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except (redis.RedisError, OSError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- measuring --------------------------------------------------------------------------------

async def post_all(base: str, requests: list[tuple[str, bytes, str]], in_flight: int,
                   seconds: float | None = None) -> tuple[int, dict[int, int], float]:
    """POST each prepared request (cycling for `seconds` when given); (done, statuses, elapsed)."""
    statuses: dict[int, int] = {}
    done = 0
    position = 0
    deadline = time.monotonic() + seconds if seconds else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:
        async def one_slot() -> None:
            nonlocal done, position
            while True:
                if deadline is not None:
                    if time.monotonic() >= deadline:
                        return
                    path, body, signature = requests[position % len(requests)]
                elif position >= len(requests):
                    return
                else:
                    path, body, signature = requests[position]
                position += 1
                async with session.post(path, data=body, headers={
                        **headers, "X-Twilio-Signature": signature}) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    done += 1
        started = time.monotonic()
        await asyncio.gather(*(one_slot() for _ in range(in_flight)))
        elapsed = time.monotonic() - started
    return done, statuses, elapsed


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time of gunicorn's arbiter and its workers so far."""
    return tree_cpu_seconds([proc.pid])


def measure_ceiling(args, base: str, forged: list, server: subprocess.Popen):
    """Refused (403) callbacks per second and (server, client) CPU s per 1,000; None on error."""
    cpu_before, client_before = cpu_seconds(server), time.process_time()
    done, statuses, elapsed = asyncio.run(
        post_all(base, forged, args.concurrency, seconds=args.ceiling_seconds))
    # CPU s per 1,000 requests, as the report gives them
    cpu = (1000 * (cpu_seconds(server) - cpu_before) / max(1, done),
           1000 * (time.process_time() - client_before) / max(1, done))
    if set(statuses) != {403}:
        log(f"the forged callbacks were not all refused with 403: {statuses}")
        return None, cpu
    log(f"ceiling: {done / elapsed:,.0f} refused callbacks/s ({done:,} in {elapsed:.2f} s)")
    return done / elapsed, cpu


def status_counts(url: str, alert_id: int) -> dict:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(Delivery.status, func.count()).where(
            Delivery.alert_id == alert_id).group_by(Delivery.status)).all()
    return dict(rows)


# -- the run ----------------------------------------------------------------------------------

def run(args, workdir: Path, procs: list[subprocess.Popen]) -> int:
    db_url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    started = time.monotonic()
    try:
        upgrade(db_url)
    except OperationalError as exc:
        log(f"error: cannot open the database {safe_url(db_url)}: {str(exc.orig).strip()}")
        return 2
    alert_id, targets = fill_deliveries(db_url, args.callbacks)
    get_engine(db_url).dispose()  # gunicorn is the only writer from here on
    log(f"{args.callbacks:,} sent deliveries inserted in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    signed = prepare(targets)
    forged = [(path, body, "bm90IGEgdmFsaWQgc2lnbmF0dXJlIQ==") for path, body, _ in signed]
    log(f"{len(signed):,} callbacks signed in {time.monotonic() - started:.1f} s (untimed)")

    redis_url = pick_redis(args.redis_url, workdir, procs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    env.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "PUBLIC_URL": PUBLIC_URL,
                "SECRET_KEY": "bench-secret-key-0123456789abcdef", "TOCSIN_INSTANCE": str(workdir / "instance"),
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": FROM_NUMBER, "SANDBOX": "0", "PYTHONPATH": str(ROOT)})
    try:
        server = serve(args, env, port, workdir, procs)
    except RuntimeError as exc:
        log(str(exc))
        return 1
    worker = start_worker(env, workdir, procs)
    log(f"gunicorn on {base}: {args.gunicorn_workers} workers x {args.threads} threads "
        f"(gthread), Redis {redis_url}")

    # Warm-up: each worker's first callbacks open its engine and sessionmaker.
    asyncio.run(post_all(base, forged[:200], args.concurrency))

    ceiling, ceiling_cpu = measure_ceiling(args, base, forged, server)
    if ceiling is None:
        return 1

    queue_conn = redis.Redis.from_url(redis_url)
    cpu_before, client_before = cpu_seconds(server), time.process_time()
    worker_before = cpu_by_process(worker)
    started = time.monotonic()
    done, statuses, posted = asyncio.run(post_all(base, signed, args.concurrency))
    applied_at = wait_applied(queue_conn, timeout=max(60.0, 2 * posted))
    if applied_at is None:
        log(f"FAILED: {callback_queue.pending(queue_conn):,} callbacks still queued after "
            "waiting; the worker's log ends with:\n"
            + (workdir / "worker.log").read_text(errors="replace")[-3000:])
        return 1
    elapsed = applied_at - started
    rate = done / elapsed
    applied_cpu = (cpu_seconds(server) - cpu_before, time.process_time() - client_before)
    worker_after = cpu_by_process(worker)
    log("worker CPU s during the run: " + ", ".join(
        f"{name} {worker_after[name] - worker_before.get(name, 0.0):.2f}" for name in worker_after))
    log(f"{done:,} signed callbacks answered in {posted:.2f} s ({done / posted:,.0f}/s), "
        f"all applied after {elapsed:.2f} s: {statuses}")
    # Again afterwards: on a shared machine one short window can land in someone's burst.
    after, _ = measure_ceiling(args, base, forged, server)
    if after is not None:
        ceiling = (ceiling + after) / 2

    counts = status_counts(db_url, alert_id)
    database = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    report(args, rate, ceiling, elapsed, counts, statuses, applied_cpu, ceiling_cpu, database)
    ok = statuses == {200: args.callbacks} and counts == {"delivered": args.callbacks}
    met = rate >= TARGET_RATE or rate >= TARGET_RATIO * ceiling
    record(args.results, bench="callbacks", figure="signed status callbacks applied",
           value=round(rate, 1), unit="/s", database=database, ceiling=round(ceiling, 1),
           ceiling_label="same server refusing (403)",
           target=f"≥ {TARGET_RATE:,}/s or ≥ {TARGET_RATIO:.0%} of ceiling", met=met and ok,
           note=f"{args.callbacks:,} callbacks, {rate / ceiling:.0%} of ceiling; gunicorn "
                f"{args.gunicorn_workers}x{args.threads} gthread, one `python -m workers`"
                + ("" if ok else "; FAILED: not every callback applied"))
    if not ok:
        log(f"FAILED: expected {args.callbacks:,} answers 200 and as many rows delivered; "
            f"got answers {statuses}, rows {counts}; gunicorn's log ends with:\n"
            + gunicorn_log_tail(workdir))
    return 0 if ok else 1


def report(args, rate, ceiling, elapsed, counts, statuses, applied_cpu, ceiling_cpu,
           database) -> None:
    n = args.callbacks
    rows = [
        ("signed callbacks applied per second", f"{rate:,.0f}/s", f"{ceiling:,.0f}/s",
         f">= {TARGET_RATE:,}/s or >= {TARGET_RATIO:.0%} of ceiling"),
        (f"all {n:,} applied", f"{elapsed:,.2f} s", f"{n / ceiling:,.2f} s" if ceiling else "—",
         f"<= {n / TARGET_RATE:,.2f} s"),
        ("server CPU s per 1,000 (web only)", f"{1000 * applied_cpu[0] / n:.2f}",
         f"{ceiling_cpu[0]:.2f}", ""),
        ("client CPU s per 1,000 requests", f"{1000 * applied_cpu[1] / n:.2f}",
         f"{ceiling_cpu[1]:.2f}", ""),
    ]
    name = "PostgreSQL" if database == "postgresql" else "SQLite"
    print(f"\nSigned Twilio status callbacks (MessageStatus=delivered, ?d=<id>): {n:,} deliveries, "
          f"{name}, gunicorn {args.gunicorn_workers} workers x {args.threads} threads, "
          f"{args.concurrency} in flight"
          + (", access log on" if args.access_log else ""))
    print(f"{'figure':38} {'measured':>12} {'ceiling':>12}   target (DESIGN §7)")
    for name, measured, ceil, target in rows:
        print(f"{name:38} {measured:>12} {ceil:>12}   {target}")
    print(f"answers {dict(sorted(statuses.items()))}; deliveries by status {dict(sorted(counts.items()))}")
    print("ceiling (mean of a window before and one after): the same forms with a wrong signature, "
          "refused (403) before any database work")
    print(f"note: the aiohttp client shares the machine's {os.cpu_count()} cores with gunicorn "
          "(signatures precomputed, so its share is small)")
    if ceiling:
        print(f"ratio to the ceiling: {rate / ceiling:.0%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=20_000,
                        help="deliveries, one signed callback each")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--access-log", action="store_true",
                        help="write gunicorn's access log (the Procfile does) to a file")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS,
                        help="a Redis DB index to use (flushed!); a private one if it is down")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--database", metavar="URL",
                        help="database to fill and apply to (e.g. a fresh PostgreSQL one: "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/NAME); default a fresh "
                        "SQLite file")
    parser.add_argument("--results", metavar="FILE",
                        help="append the figure as a JSON line (bench/results.py)")
    args = parser.parse_args(argv)
    if not 1 <= args.callbacks <= 1_000_000:
        parser.error("--callbacks must be between 1 and 1,000,000")
    if args.concurrency < 1 or args.gunicorn_workers < 1 or args.threads < 1:
        parser.error("--concurrency, --gunicorn-workers and --threads must be at least 1")
    if args.database and not args.database.startswith(("sqlite:", "postgresql")):
        parser.error("--database must be a sqlite:/// or postgresql+psycopg:// URL")

    # Afterwards the shared Redis index is flushed: left as we found it.
    return run_cleanly(lambda workdir, procs: run(args, workdir, procs),
                       after=lambda: _flush_quietly(args.redis_url))


if __name__ == "__main__":
    sys.exit(main())
