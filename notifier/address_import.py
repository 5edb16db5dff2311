"""Importing the city's address points from CSV (DESIGN §12): check each row, upsert in batches.

Header `address,lat,lon,zone` (zone optional, other columns ignored). A bad row is skipped
with a reason in plain words and never stops the good ones; the same address (normalized) is
the same point, so importing a corrected file again updates rows instead of adding them.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from typing import Callable, Iterable, Iterator

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from notifier.address_models import ADDRESS_MAX, KEY_MAX, AddressPoint, AddressToken
from notifier.address_points import normalize, word_tokens
from notifier.errors import InvalidInput
from notifier.models import Zone

REQUIRED = ("address", "lat", "lon")
OPTIONAL = ("zone",)
SQLITE_CACHE_KB = 64 * 1024  # for this connection while it imports
CHUNK = 5000  # rows per batch: a few statements per batch, and a progress bar that moves


def read_rows(text: str) -> Iterator[tuple[int, dict | str]]:
    """(row number, {address, lat, lon, zone}) per data row, or (number, reason) for a bad one.

    Row 1 is the first line after the header. Raises InvalidInput when the header is unusable
    (then nothing can be imported).
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput({"header": [f"not CSV: {exc}"]}) from None
    names = [name.strip().lower() for name in header or []]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        shown = ", ".join(names) if any(names) else "nothing"
        raise InvalidInput({"header": [f"must name the columns address, lat and lon (zone is "
                                       f"optional); this file's first line has {shown}"]})
    where = {name: names.index(name) for name in REQUIRED + OPTIONAL if name in names}
    return _data_rows(reader, len(names), where)


def _data_rows(reader, width: int, where: dict[str, int]) -> Iterator[tuple[int, dict | str]]:
    number = 0
    while True:
        number += 1
        try:
            record = next(reader, None)
        except csv.Error as exc:  # a field over csv's size limit, a stray NUL…
            yield number, f"not readable as CSV ({exc})"
            continue
        if record is None:
            return
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not rows anyone meant
        if len(record) > width and any(cell.strip() for cell in record[width:]):
            yield number, (f"{len(record)} cells but the header names {width} "
                           "(an address with a comma must be in double quotes)")
            continue
        yield number, {name: (record[i].strip() if i < len(record) else "")
                       for name, i in where.items()}


def _coordinate(raw: str, word: str, limit: int) -> float | str:
    if not raw:
        return f"missing {word}"
    try:
        value = float(raw)
    except ValueError:
        return f"bad {word} {raw[:40]!r} (not a number)"
    if not math.isfinite(value) or not -limit <= value <= limit:
        return f"bad {word} {raw[:40]!r} (must be between -{limit} and {limit})"
    return value


def check_row(row: dict, zones: set[str]) -> dict | str:
    """The point's column values from a CSV row, or the reason it is refused."""
    address = " ".join(row.get("address", "").split())
    if not address:
        return "missing address"
    if len(address) > ADDRESS_MAX:
        return f"address longer than {ADDRESS_MAX} characters"
    key = normalize(address)
    if not key:
        return "address has no letters or digits"
    if len(key) > KEY_MAX:
        return f"address longer than {ADDRESS_MAX} characters once spelled out"
    lat = _coordinate(row.get("lat", ""), "latitude", 90)
    if isinstance(lat, str):
        return lat
    lon = _coordinate(row.get("lon", ""), "longitude", 180)
    if isinstance(lon, str):
        return lon
    zone = row.get("zone") or None
    if zone is not None and zone not in zones:
        return f"unknown zone code {zone[:64]!r}"
    return {"address": address, "key": key, "lat": lat, "lon": lon, "zone_code": zone}


def known_zones(session: Session) -> set[str]:
    return set(session.scalars(select(Zone.code)))


def upsert(session: Session, points: list[dict], now: datetime) -> tuple[int, int]:
    """Create or update `points` (checked rows) in a few statements; return (created, updated).

    A key given twice in one batch keeps its last row (the file's later line wins).
    """
    by_key = {point["key"]: {**point, "updated_at": now} for point in points}
    existing = {key: (point_id, address) for key, point_id, address in session.execute(
        select(AddressPoint.key, AddressPoint.id, AddressPoint.address)
        .where(AddressPoint.key.in_(list(by_key))))}
    changed = [{**{k: v for k, v in values.items() if k != "key"}, "id": existing[key][0]}
               for key, values in by_key.items() if key in existing]
    # Core statements, not the ORM's bulk path: a third of the time on 500,000 rows.
    points_table, tokens_table = AddressPoint.__table__, AddressToken.__table__
    if changed:
        session.execute(update(AddressPoint), changed)
    # Same key, other spelling ("O'Brien" for "OBrien"): its word index may differ.
    respelled = [key for key, values in by_key.items()
                 if key in existing and existing[key][1] != values["address"]]
    if respelled:
        session.execute(delete(AddressToken).where(AddressToken.address_key.in_(respelled)))
    fresh = [values for key, values in by_key.items() if key not in existing]
    if fresh:
        _insert_many(session, points_table, fresh)
    tokens = [{"token": token, "address_key": key}
              for key in [*(values["key"] for values in fresh), *respelled]
              for token in word_tokens(by_key[key]["address"], key)]
    if tokens:
        _insert_many(session, tokens_table, tokens)
    return len(fresh), len(changed)


def _insert_many(session: Session, table, rows: list[dict]) -> None:
    """INSERT `rows`; on PostgreSQL by COPY, in this transaction (several times faster)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{table.c[name].name}"' for name in columns)  # known columns only
    with conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])


def import_points(sessions: Callable, rows: Iterable[tuple[int, dict | str]], now: datetime,
                  progress: Callable[[int], None] = lambda n: None) -> dict:
    """Import `rows` (from read_rows) a CHUNK per transaction of `sessions()` (a context manager).

    Returns {"imported" (good rows), "created", "updated" (points),
    "rejected": [(row number, reason)]}.
    """
    with sessions() as session:
        zones = known_zones(session)
    totals = {"imported": 0, "created": 0, "updated": 0, "rejected": []}
    batch: list[dict] = []

    def flush():
        with sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                # Points and words go into three big indexes in no useful order: with SQLite's
                # 2 MB page cache, 500,000 rows spend most of their time reading pages back.
                session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}"))
            created, updated = upsert(session, batch, now)
        totals["imported"] += len(batch)
        totals["created"] += created
        totals["updated"] += updated
        progress(len(batch))
        batch.clear()

    for number, row in rows:
        checked = row if isinstance(row, str) else check_row(row, zones)
        if isinstance(checked, str):
            totals["rejected"].append((number, checked))
            progress(1)
            continue
        batch.append(checked)
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    return totals
