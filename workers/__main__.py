"""`python -m workers [QUEUE …] [--burst]`: an RQ worker (forking, with the scheduler and,
unless --burst, the healing sweep, the status-callback applier and, with CAP_FEEDS, the CAP
feed poller; --burst applies the queued callbacks itself, before and after its jobs)."""
from __future__ import annotations

import argparse
import logging
import sys

import redis

from notifier import redis_fit
from notifier.config import Settings
from notifier.errors import ConfigError
from notifier.masking import LOG_FORMAT, mask_handlers
from notifier.redact import safe_url
from workers.queues import ALL_QUEUES, QUEUES, queue, redis_connection


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers",
        description="Run a Tocsin worker. With no queue names it serves all of them, alerts first.")
    parser.add_argument("queues", nargs="*", metavar="QUEUE",
                        help=f"queues to serve, in priority order ({', '.join(QUEUES)}); each "
                        "comes with its emergency twin (emergency-sms…), served first")
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    parser.add_argument("--verbose", action="store_true", help="log every job")
    args = parser.parse_args(argv)

    unknown = [q for q in args.queues if q not in ALL_QUEUES]
    if unknown:
        print(f"error: unknown queue {', '.join(map(repr, unknown))}; "
              f"queues are {', '.join(ALL_QUEUES)}", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.queues)) or list(QUEUES)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conn = redis_connection(settings)
    try:
        conn.ping()
    except (redis.RedisError, OSError) as exc:
        print(f"error: cannot reach Redis at {safe_url(settings.redis_url)}: {exc}",
              file=sys.stderr)
        return 2
    try:  # a Redis that may evict keys could drop queued alerts: refuse it (notifier.redis_fit)
        warning = redis_fit.check(conn, settings.redis_url)
    except redis_fit.RedisUnfit as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if warning:
        print(f"warning: {warning}", file=sys.stderr)

    from workers.guard import TocsinWorker
    from workers import callback_apply, cap_poller, healing

    # Import the job code (channels, twilio, SQLAlchemy models) once here: each forked job
    # inherits it instead of paying the imports again, about a second per job.
    import workers.jobs  # noqa: F401
    from workers.deliver import warm_up

    warm_up()

    level = "INFO" if args.verbose else "WARNING"
    # Our own messages (counts, delivery ids, masked numbers) at INFO; RQ's per-job lines only
    # with --verbose.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    mask_handlers()  # provider errors quote addresses; no full number or email in the log
    worker = TocsinWorker([queue(settings, n, conn) for n in names], connection=conn)
    # Every long-running worker sweeps for a dead peer's work and for jobs Redis lost.
    healer = None if args.burst else healing.start_process()
    # Status callbacks wait in Redis until applied: a Redis lock lets one applier act at a time.
    applier = None if args.burst else callback_apply.start_process()
    # CAP_FEEDS: every long-running worker starts a poller; a Redis lock lets one act per round.
    poller = cap_poller.start_process() if settings.cap_feeds and not args.burst else None
    try:
        if args.burst:  # what callbacks queue (a failover, a redial) is then served below
            _apply_callbacks(callback_apply, settings)
        worker.work(burst=args.burst, with_scheduler=True, logging_level=level)
        if args.burst:
            _apply_callbacks(callback_apply, settings)
    finally:
        for child in (healer, applier, poller):
            if child is not None:
                child.terminate()
                child.wait(10)
    return 0


def _apply_callbacks(callback_apply, settings: Settings) -> None:
    """Apply the queued status callbacks once, never waiting on a lock: a burst exits promptly."""
    try:
        callback_apply.drain(settings)
    except Exception:  # the database or Redis is down: the callbacks stay queued for later
        logging.getLogger("workers").exception("queued status callbacks not applied")


if __name__ == "__main__":
    sys.exit(main())
