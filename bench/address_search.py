"""Address search benchmark (DESIGN §12): import and search 500,000 address points.

    .venv/bin/python bench/address_search.py [--addresses 500000] [--database URL] [--repeat 30]

Builds a synthetic town (house numbers on ~4,000 streets, some with accents, apostrophes and
units) as CSV text and imports it through `notifier.address_import` (the path of
`python -m notifier import-addresses`), then times `notifier.address_points.search` for typical
queries: a house number and the start of a street, a common word (most points match), a
street's full name, an accented word after an apostrophe, one that matches nothing. Each
query's p50 and p95 is printed next to the ceiling (p95 ≤ 50 ms) and to a reference measured
in the same run: a primary-key fetch of one point, the cheapest indexed read on this database,
which shows how busy the machine is. Exit status 1 when a p95 is over its ceiling. The
import's wall-clock and CPU seconds (of this process; on a busy machine the CPU time is closer
to what an idle one would take) are printed next to DESIGN §7's import target, for reference.

Without --database a temporary SQLite file is used and removed. With --database (e.g. a
scratch PostgreSQL database) the tables are created if missing and the address tables are
dropped and made again first: never point it at a database whose points you want to keep.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout, not bench/, first on the path: the benchmarks import the project's packages.
sys.path[0] = str(ROOT)

from sqlalchemy import func, select  # noqa: E402

from notifier import address_points  # noqa: E402
from notifier.address_import import import_points, read_rows  # noqa: E402
from notifier.address_models import AddressPoint, AddressToken  # noqa: E402
from notifier.db import get_engine, session_scope  # noqa: E402
from notifier.models import Base  # noqa: E402

CEILING_MS = 50.0  # p95 of one search (DESIGN §12; a suggestion box asks on every pause)
IMPORT_TARGET = 10_000  # rows per second, the CSV import target of DESIGN §7
NAMES = ("Main", "Oak", "Elm", "Maple", "Cedar", "Pine", "Walnut", "Chestnut", "Washington",
         "Lincoln", "Jefferson", "Franklin", "Madison", "Adams", "Hancock", "Beacon", "Harbor",
         "River", "Lake", "Hill", "Park", "Church", "School", "Mill", "Spring", "Union", "Center",
         "Market", "Water", "Bridge", "Highland", "Prospect", "Summer", "Winter", "Pleasant",
         "Sunset", "Forest", "Meadow", "Orchard", "Willow", "O'Brien", "D'Angelo", "Église",
         "Gaspé", "Champlain", "Montréal", "Nguyễn", "São Paulo", "Ñandú", "Bellevue")
PLACES = ("", "North ", "South ", "East ", "West ", "Old ", "New ", "Upper ", "Lower ", "Little ")
KINDS = ("St", "Ave", "Rd", "Blvd", "Lane", "Way", "Court", "Place", "Terrace", "Drive",
         "Street", "Avenue", "Road", "Circle", "Square", "Parkway")
QUERIES = {
    "number and street start": "3 ma",
    "common word (most match)": "st",
    "street name": "north main st",
    "word after an apostrophe": "eglise",
    "word prefix, 3 letters": "che",
    "nothing matches": "zzqx",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def town_csv(count: int, seed: int = 7) -> str:
    """`count` distinct addresses as import CSV text, streets of up to ~150 houses."""
    rng = random.Random(seed)
    streets = [f"{place}{name} {kind}" for place in PLACES for name in NAMES for kind in KINDS]
    rng.shuffle(streets)
    out = io.StringIO()
    out.write("address,lat,lon,zone\n")
    made = 0
    number = 0
    while made < count:
        number += 1
        for street in streets:
            if made >= count:
                break
            unit = f", Apt {rng.randint(1, 30)}" if rng.random() < 0.05 else ""
            lat = 42.26 + rng.random() * 0.2
            lon = -71.195 + rng.random() * 0.27
            out.write(f"\"{number} {street}{unit}\",{lat:.6f},{lon:.6f},\n")
            made += 1
    return out.getvalue()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(run, repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` runs of `run` (after one warm-up run)."""
    run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=500_000)
    parser.add_argument("--database", help="a scratch database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    args = parser.parse_args()
    scratch = None
    url = args.database
    if not url:
        scratch = tempfile.TemporaryDirectory(prefix="tocsin-addresses-")
        url = f"sqlite:///{Path(scratch.name) / 'addresses.db'}"
    engine = get_engine(url)
    Base.metadata.create_all(engine)
    address_tables = [AddressToken.__table__, AddressPoint.__table__]
    Base.metadata.drop_all(engine, tables=address_tables)  # a fresh start, as after init-db
    Base.metadata.create_all(engine, tables=address_tables)

    log(f"writing {args.addresses:,} addresses as CSV")
    text = town_csv(args.addresses)
    log("importing")
    start, cpu = time.perf_counter(), time.process_time()
    totals = import_points(partial(session_scope, url), read_rows(text),
                           datetime.now(timezone.utc))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = totals["imported"] / seconds
    with session_scope(url, readonly=True) as session:
        tokens = session.scalar(select(func.count()).select_from(AddressToken))
        ids = list(session.scalars(select(AddressPoint.id)))
    print(f"import: {totals['imported']:,} points ({tokens:,} word entries, "
          f"{len(totals['rejected'])} rejected) in {seconds:.1f} s ({cpu:.1f} s CPU here) = "
          f"{rate:,.0f} rows/s (target ≥ {IMPORT_TARGET:,}/s)")

    rng = random.Random(11)
    with session_scope(url, readonly=True) as session:
        reference = timed(lambda: session.get(AddressPoint, rng.choice(ids),
                                              populate_existing=True), args.repeat * 3)
        print(f"reference, same run: a primary-key fetch p50 {percentile(reference, .5):.2f} ms, "
              f"p95 {percentile(reference, .95):.2f} ms")
        print(f"{'query':<28} {'q':<16} {'found':>5} {'p50 ms':>8} {'p95 ms':>8} {'ceiling':>8}")
        over = []
        for label, q in QUERIES.items():
            found = len(address_points.search(session, q))
            samples = timed(lambda: session.expunge_all() or address_points.search(session, q),
                            args.repeat)
            p50, p95 = percentile(samples, .5), percentile(samples, .95)
            verdict = "" if p95 <= CEILING_MS else "  OVER"
            if verdict:
                over.append(label)
            print(f"{label:<28} {q!r:<16} {found:>5} {p50:>8.2f} {p95:>8.2f} "
                  f"{'≤ %g' % CEILING_MS:>8}{verdict}")
    get_engine(url).dispose()
    if scratch is not None:
        scratch.cleanup()
    if over:
        print(f"over the ceiling: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
