"""Reach-preview benchmark (DESIGN §7): preview times over 1,000,000 residents, SQLite or PostgreSQL.

    .venv/bin/python bench/targeting.py [--residents 1000000] [--database URL | --db FILE]
                                        [--repeat 5] [--results FILE]

Builds (once; reused while the resident count matches) a city of residents spread over
~22 × 22 km around Boston, 100 police-beat zones, 30 % following a zone, 10 % with a second
location, 5 % with a zone but no location (keyword sign-ups), 0.2 % with neither, several
languages and channels, 1 % opted out of SMS (SQLite: a file, default in /tmp; PostgreSQL: the
scratch database `--database` names, loaded with COPY). Then times `notifier.audience.preview`
for a 200-vertex concave polygon reaching about a third of the city, a 2 km circle and two
named zones, each next to its ceiling: raw shapely `contains_xy` on the same candidate points
(those in the preview's prefilter boxes). The median of `--repeat` warm runs is reported,
wall-clock and CPU seconds of this process, and, apart, the first preview after a write (the
in-memory reach reloaded, `notifier.reach_cache`). A last line measures DESIGN §7's reference
(bbox query + fetch + refine of every location) to show how busy the machine was.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
from contextlib import closing
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout, not bench/, first on the path: the benchmarks import the project's packages.
sys.path[0] = str(ROOT)

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from notifier import audience, geo  # noqa: E402
from notifier.config import Settings  # noqa: E402
from bench import results  # noqa: E402
from notifier.db import get_engine, session_scope  # noqa: E402
from notifier.models import Alert, Base  # noqa: E402

from sqlalchemy import inspect, text  # noqa: E402

CENTRE_LAT, CENTRE_LON = 42.36, -71.06
HALF_LAT, HALF_LON = 0.10, 0.135  # ≈ 22 × 22 km
GRID = 10  # 10 × 10 beats
TARGETS = {"polygon": 0.5, "circle": 0.3, "zones": 0.25}
LANGUAGES = (("en", 0.70), ("es", 0.15), ("pt", 0.04), ("zh", 0.05), ("vi", 0.03), ("ht", 0.03))
CHANNELS = (('["sms"]', 0.6), ('["sms", "email"]', 0.2), ('["voice"]', 0.1), ('["email"]', 0.1))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the city ---------------------------------------------------------------------------------

def beat_code(i: int, j: int) -> str:
    return f"beat-{i}{j}"


def beat_geometry(i: int, j: int) -> dict:
    south = CENTRE_LAT - HALF_LAT + 2 * HALF_LAT * i / GRID
    west = CENTRE_LON - HALF_LON + 2 * HALF_LON * j / GRID
    north, east = south + 2 * HALF_LAT / GRID, west + 2 * HALF_LON / GRID
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


def city(count: int, seed: int = 7) -> dict[str, list[tuple]]:
    """The rows of the city, per table (the same for both databases)."""
    rng = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    zones = []
    for i in range(GRID):
        for j in range(GRID):
            geometry = beat_geometry(i, j)
            (west, south), (east, north) = geometry["coordinates"][0][0], geometry["coordinates"][0][2]
            zones.append((beat_code(i, j), f"Beat {i}{j}", json.dumps(geometry), f'["BEAT{i}{j}"]',
                          south, west, north, east, now, now))
    ids = np.arange(1, count + 1)
    language = rng.choice([l for l, _ in LANGUAGES], count, p=[p for _, p in LANGUAGES])
    channels = rng.choice([c for c, _ in CHANNELS], count, p=[p for _, p in CHANNELS])
    lat = CENTRE_LAT + rng.uniform(-HALF_LAT, HALF_LAT, count)
    lon = CENTRE_LON + rng.uniform(-HALF_LON, HALF_LON, count)
    work = rng.random(count) < 0.10
    # 5 % signed up by SMS keyword only (a zone, no address); 0.2 % gave neither.
    homeless = rng.random(count) < 0.052
    follows = (rng.random(count) < 0.30) | (homeless & (rng.random(count) < 0.96))
    beat = rng.integers(0, GRID * GRID, count)
    opted = rng.random(count) < 0.01
    home = ~homeless
    extra = ids[work & home]
    locations = list(zip(ids[home].tolist(), ["home"] * int(home.sum()), lat[home].tolist(),
                         lon[home].tolist()))
    locations += zip(extra.tolist(), ["work"] * len(extra),
                     (CENTRE_LAT + rng.uniform(-HALF_LAT, HALF_LAT, len(extra))).tolist(),
                     (CENTRE_LON + rng.uniform(-HALF_LON, HALF_LON, len(extra))).tolist())
    return {
        "zones": zones,
        "subscribers": [(int(k), f"+1617{k:07d}", f"r{k}@example.org" if "email" in c else None,
                         str(l), str(c), now, now)
                        for k, l, c in zip(ids.tolist(), language, channels)],
        "locations": [(n, *row) for n, row in enumerate(locations, start=1)],
        "subscriber_zones": [(int(k), beat_code(*divmod(int(b), GRID)))
                             for k, b in zip(ids[follows], beat[follows])],
        "opt_outs": [(f"+1617{k:07d}", "sms", now, "keyword") for k in ids[opted].tolist()],
    }


COLUMNS = {
    "zones": "code, name, geometry, keywords, min_lat, min_lon, max_lat, max_lon, created_at, updated_at",
    "subscribers": "id, phone, email, language, channels, created_at, updated_at",
    "locations": "id, subscriber_id, label, lat, lon",
    "subscriber_zones": "subscriber_id, zone_code",
    "opt_outs": "address, channel, at, source",
}


def build(url: str, count: int) -> None:
    """Write `count` residents to a fresh database at `url` (SQLite: indexes after the rows;
    PostgreSQL: COPY). The stamps' triggers are installed, as the migration does."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        if path.exists():
            path.unlink()
    engine = get_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    rows = city(count)
    log(f"writing {count:,} residents to {engine.url.render_as_string(hide_password=True)}")
    if engine.dialect.name == "sqlite":
        engine.dispose()
        _write_sqlite(path, rows)
    else:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for table, columns in COLUMNS.items():
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)
            for table in ("subscribers", "locations"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()


def _write_sqlite(path: Path, rows: dict[str, list[tuple]]) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = {name: sql for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('locations', 'subscriber_zones', 'subscriber_groups')")}
    for name in indexes:
        conn.execute(f"DROP INDEX {name}")
    for table, columns in COLUMNS.items():
        marks = ",".join("?" * len(columns.split(",")))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[table])
    log("building indexes")
    for sql in indexes.values():
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def resident_count(url: str) -> int:
    """Residents in the database at `url`, -1 when it is missing or predates the stamps."""
    if url.startswith("sqlite") and not Path(url.split("///", 1)[1]).exists():
        return -1
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            if "reach_stamps" not in inspect(conn).get_table_names():
                return -1
            return conn.execute(text("SELECT max(id) FROM subscribers")).scalar() or 0
    except Exception:  # noqa: BLE001 - any failure means "build it"
        return -1
    finally:
        engine.dispose()


# -- the areas --------------------------------------------------------------------------------

def wavy_polygon(vertices: int = 200, radius_km: float = 6.0, wave_km: float = 1.5) -> dict:
    """A concave 200-vertex polygon ≈ 12 km across the centre, radius waving ±1.5 km: it covers
    ~24 % of the town and overlaps about half the beats, reaching ~a third of the residents."""
    ring = []
    for k in range(vertices):
        t = 2 * math.pi * k / vertices
        r_km = radius_km + wave_km * math.sin(7 * t)
        ring.append([CENTRE_LON + r_km / (111.32 * math.cos(math.radians(CENTRE_LAT))) * math.cos(t),
                     CENTRE_LAT + r_km / 110.57 * math.sin(t)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


AREAS = {
    "polygon": {"geojson": wavy_polygon()},
    "circle": {"circles": [{"lat": CENTRE_LAT + 0.03, "lon": CENTRE_LON - 0.05, "radius_m": 2000}]},
    "zones": {"zones": [beat_code(2, 3), beat_code(7, 6)]},
}


def alert_for(area: dict) -> Alert:
    return Alert(status="Actual", msg_type="Alert", headline="Shelter in place",
                 messages={"en": "Chemical leak near Main St. Stay indoors.",
                           "es": "Fuga química cerca de Main St. Quédese adentro."},
                 channels=["sms", "voice", "email"], area=area)


def raw_rows(url: str, sql: str, params: tuple) -> list[tuple]:
    """Rows of one plain query through the driver itself (no SQLAlchemy rows)."""
    engine = get_engine(url)
    with engine.connect() as conn, closing(conn.connection.driver_connection.cursor()) as cursor:
        marks = sql if engine.dialect.name == "sqlite" else sql.replace("?", "%s")
        cursor.execute(marks, params)
        return cursor.fetchall()


def floor_seconds(url: str, area: dict) -> tuple[float, int]:
    """Raw shapely: `contains_xy` alone on the preview's candidate points (those in its
    prefilter boxes), best of 3: the refinement cost no implementation can avoid."""
    parsed = geo.parse_area(area)
    shape, boxes = parsed.geometry, list(parsed.boxes)
    if shape is None and parsed.circles:  # a 64-gon standing in for the circle
        c = parsed.circles[0]
        dlat = math.degrees(c.radius_m / geo.EARTH_RADIUS_M)
        dlon = dlat / math.cos(math.radians(c.lat))
        t = np.linspace(0, 2 * math.pi, 65)
        shape = shapely.Polygon(np.column_stack((c.lon + dlon * np.cos(t), c.lat + dlat * np.sin(t))))
    if shape is None:  # zones: their union, a box per zone
        parts = [shapely.geometry.shape(beat_geometry(*divmod(int(z[-2:]), GRID))) for z in parsed.zones]
        shape, boxes = shapely.union_all(parts), [p.bounds for p in parts]
    points = []
    for west, south, east, north in boxes:
        points += raw_rows(url, "SELECT lat, lon FROM locations WHERE lat BETWEEN ? AND ? "
                                "AND lon BETWEEN ? AND ?", (south, north, west, east))
    points = np.array(points, dtype=float).reshape(-1, 2)
    shapely.prepare(shape)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        shapely.contains_xy(shape, points[:, 1], points[:, 0])
        best = min(best, time.perf_counter() - start)
    return best, len(points)


def reference_seconds(url: str) -> float:
    """DESIGN §7's reference figure measured now: bounding-box query + fetch + refine of every
    location; compared across runs it shows how busy the machine was."""
    town = shapely.box(CENTRE_LON - HALF_LON, CENTRE_LAT - HALF_LAT, CENTRE_LON + HALF_LON,
                       CENTRE_LAT + HALF_LAT)
    shapely.prepare(town)
    start = time.perf_counter()
    block = np.array(raw_rows(url, "SELECT subscriber_id, lat, lon FROM locations WHERE lat "
                                   "BETWEEN ? AND ? AND lon BETWEEN ? AND ?", (-90, 90, -180, 180)),
                     dtype=float)
    shapely.contains_xy(town, block[:, 2], block[:, 1])
    return time.perf_counter() - start


def touch(url: str) -> None:
    """One resident moves a metre and back: a write the cache must notice (its stamp moves)."""
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE locations SET lat = lat + 0.00001 WHERE id = 1"))
        conn.execute(text("UPDATE locations SET lat = lat - 0.00001 WHERE id = 1"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database", help="database URL (a scratch one: it is rebuilt); "
                                           "default: SQLite in --db")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "tocsin-targeting.db",
                        help="the SQLite file when --database is not given")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database even if present")
    parser.add_argument("--results", help="append each figure to this JSON-lines file (bench/results.py)")
    args = parser.parse_args()
    if args.residents < 1 or args.repeat < 1:
        parser.error("--residents and --repeat must be at least 1")
    url = args.database or f"sqlite:///{args.db}"
    if not url.startswith(("sqlite", "postgresql")):
        parser.error("--database must be a sqlite:/// or postgresql+psycopg:// URL")
    try:
        if args.rebuild or resident_count(url) != args.residents:
            start = time.perf_counter()
            build(url, args.residents)
            log(f"built in {time.perf_counter() - start:.1f} s")
    except Exception as exc:  # noqa: BLE001 - a bad URL or a server that does not answer
        print(f"cannot build the city at {url}: {exc}", file=sys.stderr)
        return 2
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-0123456789abcdef",
                                  "PUBLIC_URL": "http://127.0.0.1:5000",
                                  "TOCSIN_INSTANCE": str(Path(tempfile.gettempdir()) / "tocsin-bench-instance")})
    print(f"reach preview, {args.residents:,} residents, {database}, {os.cpu_count()} CPUs "
          f"(median of {args.repeat} warm runs; ceiling: raw shapely contains_xy on the candidate points)")
    print(f"{'area':8} {'recipients':>10} {'reached':>8} {'preview s':>10} {'cpu s':>6} {'target s':>9} "
          f"{'first s':>8} {'shapely s':>10} {'points':>8} {'×shapely':>9}  ok")
    with session_scope(url, readonly=True) as session:  # a fresh process reads everything once
        start = time.perf_counter()
        audience.preview(session, alert_for(AREAS["zones"]), settings)
        cold = time.perf_counter() - start
    failed = False
    for name, area in AREAS.items():
        touch(url)  # the first run reloads what a write made stale
        times, cpu = [], []
        result = None
        for _ in range(args.repeat + 1):
            with session_scope(url, readonly=True) as session:
                start, start_cpu = time.perf_counter(), time.process_time()
                result = audience.preview(session, alert_for(area), settings)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
        first, times, cpu = times[0], times[1:], cpu[1:]
        took = statistics.median(times)
        floor, points = floor_seconds(url, area)
        ok = took <= TARGETS[name]
        failed |= not ok
        reached = result["recipients"] / args.residents
        print(f"{name:8} {result['recipients']:>10,} {reached:>8.1%} {took:>10.3f} "
              f"{statistics.median(cpu):>6.3f} {TARGETS[name]:>9.2f} {first:>8.3f} "
              f"{floor:>10.4f} {points:>8,} {took / floor:>9.0f}  {'yes' if ok else 'NO'}", flush=True)
        log(f"{name}: reasons {result['reasons']}, deliveries {result['deliveries']}, "
            f"warm runs {', '.join(f'{t:.3f}' for t in times)}")
        label = {"polygon": "polygon preview", "zones": "zone-only preview"}.get(name)
        if label:
            results.record(args.results, bench="preview", figure=f"{label}, {args.residents:,} residents"
                           if args.residents != 1_000_000 else f"{label}, 1M residents",
                           value=round(took, 4), unit="s", database=database,
                           ceiling=round(floor, 4), ceiling_label="raw shapely",
                           target=f"≤ {TARGETS[name]} s", met=ok,
                           note=f"{result['recipients']:,} recipients ({reached:.0%}); median of "
                                f"{args.repeat} warm runs; first after a location write "
                                f"{first:.2f} s; first in a fresh process {cold:.2f} s")
    print(f"first preview in a fresh process (reads every part of the cache): {cold:.3f} s; "
          "'first s' is the first after a resident moved (locations re-read)")
    reference = reference_seconds(url)
    print(f"reference, same run: bbox query + fetch + refine of every location {reference:.3f} s "
          f"(DESIGN §7 quotes ≈ 0.25 s on SQLite)")
    get_engine(url).dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
