"""Healing benchmark (DESIGN §13): how long a dead worker's rows stay out of play, at the default.

    .venv/bin/python bench/healing.py [--residents 2000] [--workers 2] [--rounds horse,worker,horse]

Real `python -m workers` processes send SMS alerts to a Twilio stand-in; mid-batch, a round
SIGKILLs the work-horse sending (`horse`) or the worker with its horse (`worker`, replaced
afterwards). Measured from the kill: until no row of the dead claim is `sending` (back in
play: given back and queued again), and until the alert is complete; and the messages sent
twice, next to those in flight at the kill. Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.fanout import (  # noqa: E402
    ACCOUNT_SID, AUTH_TOKEN, FINISHED, fill_residents, send_alert, start_redis, wait_for_workers,
    worker_env)
from bench.processes import run_cleanly  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.db import session_scope, upgrade, use_audit_key  # noqa: E402
from notifier.models import Delivery  # noqa: E402
from tests.support.twilio_standin import TwilioStandIn  # noqa: E402
from workers.heartbeat import PREFIX, ttl_seconds  # noqa: E402

CEILING = 30.0  # DESIGN §13: back in play within 30 s


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def batch_heartbeat(conn: redis.Redis, timeout: float = 30) -> tuple[str, int]:
    """(claim token, horse pid) of a delivery batch at work, from its heartbeat."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in conn.scan_iter(match=PREFIX + "*"):
            token = key.decode()[len(PREFIX):]
            value = conn.get(key)
            if value and not token.startswith("fan-out-"):
                return token, int(value.decode().rsplit(":", 1)[1])
        time.sleep(0.01)
    raise RuntimeError("no delivery batch has a heartbeat")


def count(url: str, *where) -> int:
    with session_scope(url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(*where))


def handed(standin: TwilioStandIn) -> Counter:
    return Counter(r.form.get("To") for r in standin.requests if r.status == 201)


def one_round(mode: str, args, db_url: str, settings: Settings, conn, standin, env, workdir,
              workers: list, procs: list) -> dict:
    standin.reset()
    alert_id, _ = send_alert(settings)
    token, horse = batch_heartbeat(conn)
    while len(standin.requests) < args.kill_after:
        time.sleep(0.005)
    if mode == "worker":
        parent = next(w for w in workers if w.pid == _parent(horse))
        os.killpg(parent.pid, signal.SIGKILL)
        workers.remove(parent)
    os.killpg(horse, signal.SIGKILL)
    killed = time.monotonic()
    time.sleep(args.latency + 0.3)
    got = handed(standin)
    with session_scope(db_url, readonly=True) as session:
        stranded = session.execute(select(Delivery.address).where(
            Delivery.claim_token == token, Delivery.status == "sending")).scalars().all()
    in_flight = sum(1 for a in stranded if got[a])
    back = done = None
    while time.monotonic() - killed < args.timeout:
        if back is None and not count(db_url, Delivery.claim_token == token,
                                      Delivery.status == "sending"):
            back = time.monotonic() - killed
        if count(db_url, Delivery.alert_id == alert_id, Delivery.status.in_(FINISHED)) \
                >= args.residents:
            done = time.monotonic() - killed
            break
        time.sleep(0.05)
    twice = sum(n - 1 for n in handed(standin).values() if n > 1)
    if mode == "worker":  # a replacement, as a supervisor would start
        workers.extend(start_workers(1, env, workdir / "workers.log"))
        procs.extend(workers[-1:])
        time.sleep(3)  # its start-up (the dead worker stays registered in Redis for a while)
    return {"mode": mode, "stranded": len(stranded), "back": back, "done": done,
            "twice": twice, "in_flight": in_flight}


def start_workers(n: int, env: dict, logfile: Path) -> list[subprocess.Popen]:
    with open(logfile, "a") as handle:  # --verbose: RQ's line for every job, in a file
        return [subprocess.Popen([sys.executable, "-m", "workers", "alerts", "sms", "--verbose"],
                                 cwd=ROOT, env=env, start_new_session=True, stdout=handle,
                                 stderr=subprocess.STDOUT) for _ in range(n)]


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def run(args, workdir: Path, procs: list) -> int:
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(db_url)
    fill_residents(db_url, args.residents)
    redis_url, proc = start_redis(workdir)
    procs.append(proc)
    standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, args.latency).start()
    env = worker_env(db_url, redis_url, standin.url, workdir, args.concurrency)
    if args.heal_seconds:
        env["HEAL_SECONDS"] = str(args.heal_seconds)
    settings = Settings.from_env(env)
    use_audit_key(settings.database_url, settings.audit_key)
    workers = start_workers(args.workers, env, workdir / "workers.log")
    procs.extend(workers)
    wait_for_workers(redis_url, args.workers)
    conn = redis.Redis.from_url(redis_url)
    results = []
    try:
        for mode in args.rounds.split(","):
            results.append(one_round(mode, args, db_url, settings, conn, standin, env, workdir,
                                     workers, procs))
            log(f"round {len(results)}: {results[-1]}")
    finally:
        standin.stop()
    report(args, settings, results)
    ok = all(r["back"] is not None and r["back"] <= CEILING and r["done"] is not None
             and r["twice"] <= r["in_flight"] for r in results)
    if args.log:
        Path(args.log).write_text((workdir / "workers.log").read_text(errors="replace"))
    if not ok:
        log("a round missed the window; the workers' log ends with:\n"
            + (workdir / "workers.log").read_text(errors="replace")[-3000:])
    return 0 if ok else 1


def report(args, settings: Settings, results: list[dict]) -> None:
    print(f"\nHealing: {args.residents:,} SMS residents, {args.workers} workers, provider latency "
          f"{args.latency:g} s, SMS_CONCURRENCY {args.concurrency}, HEAL_SECONDS "
          f"{settings.heal_seconds:g} (heartbeats live {ttl_seconds(settings):g} s)")
    print(f"{'round':>5} {'killed':8} {'stranded':>9} {'back in play':>13} {'alert done':>11} "
          f"{'sent twice':>11} {'in flight':>10}   ceiling")
    for i, r in enumerate(results, 1):
        print(f"{i:>5} {r['mode']:8} {r['stranded']:>9} {_secs(r['back']):>13} "
              f"{_secs(r['done']):>11} {r['twice']:>11} {r['in_flight']:>10}   <= {CEILING:g} s")
    backs = [r["back"] for r in results if r["back"] is not None]
    if backs:
        print(f"back in play after a kill: {min(backs):.1f}–{max(backs):.1f} s "
              f"(ceiling {CEILING:g} s)")


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2, help="stand-in answer delay (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20, help="SMS_CONCURRENCY")
    parser.add_argument("--rounds", default="horse,worker,horse",
                        help="what each round kills: horse or worker (with its horse)")
    parser.add_argument("--kill-after", type=int, default=200,
                        help="kill once the stand-in has this many requests of the round")
    parser.add_argument("--heal-seconds", type=float, help="HEAL_SECONDS (default: unset, 5)")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--log", help="keep the workers' log in this file")
    args = parser.parse_args(argv)
    if any(m not in ("horse", "worker") for m in args.rounds.split(",")):
        parser.error("--rounds lists horse or worker, comma-separated")
    return run_cleanly(lambda workdir, procs: run(args, workdir, procs))


if __name__ == "__main__":
    sys.exit(main())
