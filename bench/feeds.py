"""Public-feed benchmark: what anonymous readers of `/feeds/alerts.atom` cost the dispatchers.

    .venv/bin/python bench/feeds.py [--seconds 8] [--feed-rate 50] [--readers 12]
                                    [--gunicorn-workers 2] [--threads 4]

Builds a fresh SQLite database with one sent Actual alert naming a 10,000-vertex zone (and a
page of other alerts for the list), starts the real app under gunicorn (gthread, as the
Procfile does) and measures in one run:
  1. the uncached cost of one feed build (in this process, before the server starts): the
     reference, what every request cost before the feed was cached;
  2. feed requests served per second (full 200 answers, `--readers` in flight), and 304s;
  3. the latency of a signed-in page (`/alerts`, median and p95) with no feed load, then while
     `--feed-rate` feed requests a second hit the server (sent from a separate process).
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.callbacks import _flush_quietly, cpu_seconds, free_port, log, pick_redis  # noqa: E402
from bench.processes import run_cleanly  # noqa: E402
from bench.web_server import gunicorn_log_tail, serve  # noqa: E402
from notifier import accounts, zones  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import get_engine, session_scope, upgrade  # noqa: E402
from notifier.models import Alert  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/8"  # tests use 10-15, callbacks 9, `make run` 0
VERTICES = 10_000  # geojson.MAX_VERTICES: the largest zone Tocsin accepts
USER, PASSWORD = "bench-dispatcher", "bench password 1"
FEED, PAGE = "/feeds/alerts.atom", "/alerts"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- set-up -----------------------------------------------------------------------------------

def big_zone(vertices: int = VERTICES) -> dict:
    """A closed ring of `vertices` positions (the last repeats the first) around Boston."""
    points = [[round(-71.06 + 0.03 * math.cos(2 * math.pi * i / (vertices - 1)), 6),
               round(42.36 + 0.02 * math.sin(2 * math.pi * i / (vertices - 1)), 6)]
              for i in range(vertices - 1)]
    return {"type": "Polygon", "coordinates": [points + [points[0]]]}


def fill(url: str, others: int) -> str:
    """The zone, the public alert naming it, `others` list-page alerts and a user; its identifier."""
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        zones.put_zone(session, "big", {"name": "Big zone", "geometry": big_zone()}, now)
        accounts.create_user(session, USER, "dispatcher", PASSWORD, now)
    base = dict(status="Actual", msg_type="Alert", category="Safety", event="Bench",
                severity="Severe", urgency="Immediate", certainty="Observed",
                channels=["sms"], created_by="bench", created_at=now)
    with get_engine(url).begin() as conn:
        conn.execute(insert(Alert).values(
            identifier="tocsin-bench-feed", state="sent", headline="Boil water (bench)",
            messages={"en": "Boil tap water before drinking.", "es": "Hierva el agua."},
            area={"zones": ["big"]}, sent_at=now, fanned_out_at=now,
            expires_at=now + timedelta(hours=6), **base))
        conn.execute(insert(Alert), [
            {**base, "identifier": f"tocsin-bench-other-{i}", "state": "draft", "status": "Test",
             "headline": f"Draft {i}", "messages": {"en": f"Draft {i}"},
             "area": {"everyone": True}} for i in range(others)])
    return "tocsin-bench-feed"


def uncached_build_seconds(env: dict, repeat: int) -> list[float]:
    """Seconds per feed build, run in this process through the app's own builder."""
    from admin_ui import create_app, db
    from admin_ui.feeds import _build_feed

    app = create_app(Settings.from_env(env))
    times = []
    with app.test_request_context(FEED):
        for _ in range(repeat):
            started = time.perf_counter()
            _build_feed(db(), datetime.now(timezone.utc))
            times.append(time.perf_counter() - started)
    return times


# -- measuring --------------------------------------------------------------------------------

async def get_many(base: str, in_flight: int, seconds: float,
                   headers: dict | None = None) -> tuple[int, dict[int, int], int, float]:
    """GET the feed from `in_flight` loops for `seconds`; (done, statuses, bytes, elapsed)."""
    statuses: dict[int, int] = {}
    done = size = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:
        async def one_reader() -> None:
            nonlocal done, size
            while time.monotonic() < deadline:
                async with session.get(FEED, headers=headers) as response:
                    body = await response.read()  # not `size += len(await …)`: lost updates
                    size += len(body)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    done += 1
        started = time.monotonic()
        await asyncio.gather(*(one_reader() for _ in range(in_flight)))
        elapsed = time.monotonic() - started
    return done, statuses, size, elapsed


async def paced_feed(base: str, rate: float, seconds: float) -> tuple[int, dict[int, int], float]:
    """`rate` feed GETs a second, each started on schedule whatever the others do (open loop)."""
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(base_url=base,
                                     connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one() -> None:
            try:
                async with session.get(FEED) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except aiohttp.ClientError:
                statuses[0] = statuses.get(0, 0) + 1
        started = time.monotonic()
        tasks = []
        for i in range(int(rate * seconds)):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    return sum(statuses.values()), statuses, elapsed


def _load_process(base: str, rate: float, seconds: float, results) -> None:
    results.put(asyncio.run(paced_feed(base, rate, seconds)))


async def signed_in(base: str) -> aiohttp.ClientSession:
    # unsafe=True: aiohttp keeps no cookies for a bare IP address otherwise.
    session = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get("/login") as response:
        token = _CSRF.search(await response.text()).group(1)
    async with session.post("/login", data={"username": USER, "password": PASSWORD,
                                            "csrf_token": token},
                            allow_redirects=False) as response:
        if response.status != 302:
            await session.close()
            raise RuntimeError(f"sign-in answered {response.status}")
    return session


async def page_latencies(base: str, seconds: float) -> tuple[list[float], dict[int, int]]:
    """Seconds per `/alerts` request, one after the other, for `seconds`."""
    session = await signed_in(base)
    times, statuses = [], {}
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(PAGE, allow_redirects=False) as response:
                await response.read()
            times.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
    finally:
        await session.close()
    return times, statuses


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def ms(value: float) -> str:
    return f"{1000 * value:,.1f} ms"


# -- the run ----------------------------------------------------------------------------------

def run(args, workdir: Path, procs: list[subprocess.Popen]) -> int:
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(db_url)
    started = time.monotonic()
    identifier = fill(db_url, args.other_alerts)
    log(f"zone of {VERTICES:,} vertices and {args.other_alerts + 1} alerts stored "
        f"in {time.monotonic() - started:.1f} s")

    redis_url = pick_redis(args.redis_url, workdir, procs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    # Plain http: the session cookie must not be Secure for this client.
    env.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "PUBLIC_URL": base,
                "SECRET_KEY": "bench-secret-key-0123456789abcdef", "TOCSIN_INSTANCE": str(workdir / "instance"),
                "SANDBOX": "1", "PYTHONPATH": str(ROOT)})

    builds = uncached_build_seconds(env, args.builds)
    get_engine(db_url).dispose()
    build = statistics.median(builds)
    log(f"figure 1: one uncached feed build {ms(build)} (median of {len(builds)})")

    args.concurrency = max(args.readers, int(args.feed_rate))  # start_gunicorn sizes its backlog
    try:
        server = serve(args, env, port, workdir, procs)
    except RuntimeError as exc:
        log(str(exc))
        return 1
    log(f"gunicorn on {base}: {args.gunicorn_workers} workers x {args.threads} threads (gthread)")

    # Warm-up: every worker builds the feed once and opens its engine.
    asyncio.run(get_many(base, args.readers, 2.0))
    asyncio.run(page_latencies(base, 1.0))

    cpu_before = cpu_seconds(server)
    done, statuses, size, elapsed = asyncio.run(get_many(base, args.readers, args.seconds))
    feed_cpu = (cpu_seconds(server) - cpu_before) / max(1, done)
    log(f"figure 2: {done / elapsed:,.0f} feed answers/s {statuses}, {size / max(1, done):,.0f} "
        f"bytes each")
    not_modified = asyncio.run(get_many(base, args.readers, args.seconds / 2,
                                        {"If-None-Match": current_etag(base)}))

    quiet, quiet_statuses = asyncio.run(page_latencies(base, args.seconds))
    log(f"figure 3: {PAGE} with no feed load: median {ms(statistics.median(quiet))}, "
        f"p95 {ms(p95(quiet))} ({len(quiet)} requests)")
    results = multiprocessing.get_context("fork").Queue()
    loader = multiprocessing.get_context("fork").Process(
        target=_load_process, args=(base, args.feed_rate, args.seconds + 1, results))
    loader.start()
    time.sleep(0.5)  # the load is running before the first page request
    loaded, loaded_statuses = asyncio.run(page_latencies(base, args.seconds))
    fed, fed_statuses, fed_elapsed = results.get(timeout=120)
    loader.join(10)
    log(f"figure 3: {PAGE} under {fed / fed_elapsed:,.0f} feed requests/s: median "
        f"{ms(statistics.median(loaded))}, p95 {ms(p95(loaded))} ({len(loaded)} requests)")

    report(args, build, builds, done / elapsed, statuses, size / max(1, done), feed_cpu,
           not_modified, quiet, loaded, fed / fed_elapsed, fed_statuses)
    ok = (set(statuses) == {200} and set(not_modified[1]) == {304}
          and set(fed_statuses) == {200} and set(quiet_statuses) == {200}
          and set(loaded_statuses) == {200})
    if not ok:
        log(f"FAILED: unexpected answers: feed {statuses}, conditional {not_modified[1]}, "
            f"paced {fed_statuses}, page {quiet_statuses} / {loaded_statuses}; gunicorn's log "
            "ends with:\n" + gunicorn_log_tail(workdir))
    return 0 if ok else 1


def current_etag(base: str) -> str:
    with urllib.request.urlopen(base + FEED, timeout=30) as response:
        log(f"the feed: {len(response.read()):,} bytes, Cache-Control: "
            f"{response.headers['Cache-Control']}")
        return response.headers["ETag"]


def report(args, build, builds, rate, statuses, size, feed_cpu, not_modified, quiet, loaded,
           fed_rate, fed_statuses) -> None:
    nm_done, nm_statuses, _, nm_elapsed = not_modified
    print(f"\nPublic feed, one Actual alert naming a {VERTICES:,}-vertex zone "
          f"({size / 1024:,.0f} KiB feed), SQLite, gunicorn {args.gunicorn_workers} workers x "
          f"{args.threads} threads, {args.seconds:g} s windows")
    print(f"{'figure':52} {'measured':>14}")
    rows = [
        ("1. one uncached feed build (reference)", ms(build)),
        ("   the same, as feed answers/s on 1 core", f"{1 / build:,.1f}/s"),
        (f"2. feed answers/s served ({args.readers} in flight, 200)", f"{rate:,.0f}/s"),
        ("   server CPU per feed answer", ms(feed_cpu)),
        ("   304 answers/s (If-None-Match)", f"{nm_done / nm_elapsed:,.0f}/s"),
        (f"3. {PAGE} median, no feed load", ms(statistics.median(quiet))),
        (f"   {PAGE} p95, no feed load", ms(p95(quiet))),
        (f"   {PAGE} median, {fed_rate:,.0f} feed requests/s", ms(statistics.median(loaded))),
        (f"   {PAGE} p95, {fed_rate:,.0f} feed requests/s", ms(p95(loaded))),
    ]
    for name, value in rows:
        print(f"{name:52} {value:>14}")
    print(f"builds (s): {', '.join(f'{b:.3f}' for b in builds)}; answers {statuses}, "
          f"conditional {nm_statuses}, paced {fed_statuses}")
    print(f"uncached, {fed_rate:,.0f} feed requests/s would need {fed_rate * build:,.1f} CPU "
          f"seconds a second (the machine has {os.cpu_count()} cores)")
    print("note: the clients share the machine's cores with gunicorn")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each window")
    parser.add_argument("--feed-rate", type=float, default=50.0,
                        help="feed requests a second while the page is timed")
    parser.add_argument("--readers", type=int, default=12, help="feed requests in flight (fig. 2)")
    parser.add_argument("--builds", type=int, default=5, help="uncached builds timed (fig. 1)")
    parser.add_argument("--other-alerts", type=int, default=60,
                        help="more alerts for the list page")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--access-log", action="store_true",
                        help="write gunicorn's access log (the Procfile does) to a file")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS,
                        help="a Redis DB index to use (flushed!); a private one if it is down")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.feed_rate <= 0 or min(args.readers, args.builds,
                                                       args.gunicorn_workers, args.threads) < 1:
        parser.error("--seconds, --feed-rate, --readers, --builds, --gunicorn-workers and "
                     "--threads must be positive")
    return run_cleanly(lambda workdir, procs: run(args, workdir, procs),
                       after=lambda: _flush_quietly(args.redis_url))


if __name__ == "__main__":
    sys.exit(main())
