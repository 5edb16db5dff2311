"""After-action report benchmark: `notifier.reports.build` over one alert's deliveries in SQLite.

    .venv/bin/python bench/report.py [--deliveries 100000] [--db /tmp/tocsin-report.db]
                                     [--repeat 3] [--ceiling 1.0]

Builds (once; reused while the count matches) one sent alert with that many deliveries: 70 %
SMS, 20 % email, 10 % voice, handed over across 60 s, 80 % delivered, 10 % acknowledged over
an hour, 2 % failed with a few codes, 1 % skipped; residents in six languages, 30 % following
one of 100 zones. Prints the median wall-clock time of `--repeat` reports next to the
ceiling, and next to the floor of the same machine: one sort of every hand-over time (what
one exact percentile costs by ORDER BY … OFFSET; the report needs six, and more per channel).
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the checkout first: the benchmark imports the project's packages

from sqlalchemy import text  # noqa: E402

from notifier import reports  # noqa: E402
from notifier.db import get_engine, session_scope  # noqa: E402
from notifier.models import Alert, Base  # noqa: E402

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
LANGUAGES = ("en", "en", "en", "es", "pt", "zh", "vi", "ht")
CODES = ("30003", "30005", "30006", "21211")


def stamp(seconds: float) -> str:
    """SQLAlchemy's SQLite text form of a UTC time."""
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_database(path: Path, count: int) -> None:
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    Base.metadata.create_all(get_engine(url))
    get_engine(url).dispose()
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO alerts (id, identifier, state, status, msg_type, category, event, headline,"
        " severity, urgency, certainty, messages, area, channels, confirm, created_by,"
        " created_at, sent_at, fanned_out_at) VALUES (1, 'urn:bench:1', 'sent', 'Actual',"
        " 'Alert', 'Safety', 'Flood', 'Flood warning', 'Severe', 'Immediate', 'Observed',"
        " '{\"en\": \"Go up.\"}', '{\"zones\": [\"zone-1\", \"zone-2\"]}',"
        " '[\"sms\", \"email\", \"voice\"]', 1, 'user:bench', ?, ?, ?)",
        (stamp(-120), stamp(0), stamp(20)))
    conn.executemany("INSERT INTO zones (code, name, keywords, created_at, updated_at)"
                     " VALUES (?, ?, '[]', ?, ?)",
                     [(f"zone-{z}", f"Zone {z}", stamp(0), stamp(0)) for z in range(100)])
    subscribers, follows, rows = [], [], []
    for i in range(1, count + 1):
        language = LANGUAGES[i % len(LANGUAGES)]
        subscribers.append((i, f"+1617{i:07d}", language, stamp(-9999), stamp(-9999)))
        if rng.random() < 0.3:
            follows.append((i, f"zone-{rng.randrange(100)}"))
        channel = rng.choices(("sms", "email", "voice"), (0.7, 0.2, 0.1))[0]
        sent = rng.uniform(0.2, 60)
        roll = rng.random()
        status, code, sent_at, delivered_at, acked, message = "sent", None, stamp(sent), None, None, None
        if roll < 0.01:
            status, sent_at, message = "skipped", None, "opted out"
        elif roll < 0.03:
            status, code = rng.choice((("failed", rng.choice(CODES)), ("undelivered", "30003")))
        elif roll < 0.83:
            status, delivered_at = "delivered", stamp(sent + rng.uniform(1, 30))
            if rng.random() < 0.125:
                acked = stamp(sent + rng.uniform(30, 3600))
        rows.append((1, i, channel, f"+1617{i:07d}", language, status, code, message, 1,
                     stamp(0), sent_at, delivered_at, acked, stamp(sent)))
    conn.executemany("INSERT INTO subscribers (id, phone, language, channels, created_at,"
                     " updated_at) VALUES (?, ?, ?, '[\"sms\"]', ?, ?)", subscribers)
    conn.executemany("INSERT INTO subscriber_zones (subscriber_id, zone_code) VALUES (?, ?)",
                     follows)
    conn.executemany("INSERT INTO deliveries (alert_id, subscriber_id, channel, address, language,"
                     " status, error_code, error_message, attempts, queued_at, sent_at,"
                     " delivered_at, acknowledged_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("CREATE TABLE bench_meta (deliveries INTEGER)")
    conn.execute("INSERT INTO bench_meta VALUES (?)", (count,))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def built_count(path: Path) -> int | None:
    if not path.exists():
        return None
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT deliveries FROM bench_meta").fetchone()[0]
    except sqlite3.Error:
        return None


def median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/tocsin-report.db"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ceiling", type=float, default=1.0, help="seconds a report may take")
    args = parser.parse_args()
    if built_count(args.db) != args.deliveries:
        started = time.perf_counter()
        build_database(args.db, args.deliveries)
        print(f"built {args.deliveries:,} deliveries in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    url = f"sqlite:///{args.db}"

    def report():
        with session_scope(url, readonly=True) as session:
            return reports.build(session, session.get(Alert, 1), T0 + timedelta(hours=2))

    def floor():
        with session_scope(url, readonly=True) as session:
            return session.execute(text(
                "SELECT sent_at FROM deliveries WHERE alert_id = 1 AND sent_at IS NOT NULL"
                " ORDER BY sent_at LIMIT 1 OFFSET :k"), {"k": args.deliveries // 2}).all()

    result = report()  # warm the page cache, and check the figures are there
    assert result["totals"]["messages"] == args.deliveries, result["totals"]
    seconds = median_seconds(report, args.repeat)
    base = median_seconds(floor, args.repeat)
    print(f"report of {args.deliveries:,} deliveries (SQLite): {seconds:.3f} s "
          f"(ceiling {args.ceiling:.1f} s: {'ok' if seconds <= args.ceiling else 'OVER'}); "
          f"floor, one sort of every hand-over time: {base:.3f} s "
          f"(report = {seconds / base:.1f} × floor)")


if __name__ == "__main__":
    main()
