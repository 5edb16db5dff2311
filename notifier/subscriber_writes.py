"""Bulk writes of an import's subscribers and their links, straight to the tables.

The import decides in Python what each subscriber becomes (notifier.subscriber_import); this
module only writes the outcome, the fastest way each database has: on SQLite one executemany
per statement, on PostgreSQL `COPY` (new rows straight into the tables, changed rows into a
TEMP staging table merged with one `UPDATE … FROM`). No ORM objects and no per-row SQLAlchemy
parameter handling: at a million rows either would cost more than the database does.
New subscribers get their ids before they are written (SQLite: after the largest id, safe
inside the write lock BEGIN IMMEDIATE takes; PostgreSQL: from the id sequence), so their
locations and zones need no read-back.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from notifier.models import Subscriber

SCALARS = ("name", "phone", "email", "language", "channels")
LINKS = {"locations": ("locations", ("subscriber_id", "label", "lat", "lon")),
         "zones": ("subscriber_zones", ("subscriber_id", "zone_code")),
         "groups": ("subscriber_groups", ("subscriber_id", "name"))}
_DELETE_CHUNK = 500  # values per IN (…) on SQLite (its bound-parameter limit is far above)


def write(session: Session, records: dict[int, dict], touched: dict[int, set],
          now: datetime) -> None:
    """Write the subscribers in `touched` (keys of `records`: > 0 an existing id, < 0 a new one)
    with their scalar fields, and replace the links the file named (`touched[key]`); new ids
    are set in `records[key]["id"]`. In the caller's transaction."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    raw = connection.connection.dbapi_connection
    bind_stamp, to_json = _processors(connection.dialect)
    stamp = bind_stamp(now)
    new_keys = [k for k in touched if k < 0]
    old_keys = [k for k in touched if k > 0]
    for key, new_id in zip(new_keys, _new_ids(raw, postgres, len(new_keys))):
        records[key]["id"] = new_id

    channel_json: dict[tuple, object] = {}  # a handful of distinct channel lists per file

    def scalars(key: int) -> tuple:
        r = records[key]
        channels = tuple(r["channels"])
        if channels not in channel_json:
            channel_json[channels] = to_json(r["channels"])
        return (r["name"], r["phone"], r["email"], r["language"], channel_json[channels])

    if old_keys:
        _update(raw, postgres, [(records[k]["id"], *scalars(k), stamp) for k in old_keys])
    if new_keys:
        _insert(raw, postgres, "subscribers", ("id", *SCALARS, "created_at", "updated_at"),
                [(records[k]["id"], *scalars(k), stamp, stamp) for k in new_keys])
    for name, (table, columns) in LINKS.items():
        _delete(raw, postgres, table, [records[k]["id"] for k in old_keys if name in touched[k]])
        rows = []
        for key in touched:
            sub_id, values = records[key]["id"], records[key].get(name) or ()
            if name == "locations":
                rows.extend((sub_id, loc.get("label"), loc["lat"], loc["lon"]) for loc in values)
            else:
                rows.extend((sub_id, value) for value in dict.fromkeys(values))
        _insert(raw, postgres, table, columns, rows)


def existing(session: Session, phones: set[str], emails: set[str]) -> dict[int, dict]:
    """Stored subscribers holding one of `phones` or `emails`: {id: {id, name, phone, email,
    language, channels}} (one `= ANY` query each on PostgreSQL, IN chunks on SQLite)."""
    connection = session.connection()
    dialect = connection.dialect
    postgres = dialect.name == "postgresql"
    decode = Subscriber.__table__.c.channels.type.dialect_impl(dialect).result_processor(
        dialect, None) or (lambda value: value)
    keys = ("id", "name", "phone", "email", "language", "channels")
    found: dict[int, dict] = {}
    cur = connection.connection.dbapi_connection.cursor()
    try:
        for column, values in (("phone", phones), ("email", emails)):
            values = list(values)
            size = len(values) if postgres else _DELETE_CHUNK
            for start in range(0, len(values), size or 1):
                part = values[start:start + size]
                where = "= ANY(%s)" if postgres else f"IN ({', '.join('?' * len(part))})"
                cur.execute(f"SELECT {', '.join(keys)} FROM subscribers WHERE {column} {where}",
                            (part,) if postgres else part)
                for row in cur.fetchall():
                    found[row[0]] = {**dict(zip(keys[:5], row[:5])), "channels": decode(row[5])}
    finally:
        cur.close()
    return found


def _processors(dialect):
    """(the bind of one shared timestamp, the bind of channels): the column types' own
    processors, so the rows read back exactly as ORM-written ones would."""
    table = Subscriber.__table__
    stamp = table.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    to_json = table.c.channels.type.dialect_impl(dialect).bind_processor(dialect)
    return stamp or (lambda value: value), to_json or json.dumps


def _new_ids(raw, postgres: bool, count: int) -> list[int]:
    if not count:
        return []
    cur = raw.cursor()
    try:
        if postgres:
            cur.execute("SELECT nextval(pg_get_serial_sequence('subscribers', 'id')) "
                        "FROM generate_series(1, %s)", (count,))
            return [row[0] for row in cur.fetchall()]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM subscribers")
        top = cur.fetchone()[0]
        return list(range(top + 1, top + 1 + count))
    finally:
        cur.close()


def _insert(raw, postgres: bool, table: str, columns: tuple, rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    cur = raw.cursor()
    try:
        if postgres:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cur.close()


def _update(raw, postgres: bool, rows: list[tuple]) -> None:
    """rows: (id, name, phone, email, language, channels, updated_at)."""
    cur = raw.cursor()
    try:
        if not postgres:
            sets = ", ".join(f"{c} = ?" for c in (*SCALARS, "updated_at"))
            cur.executemany(f"UPDATE subscribers SET {sets} WHERE id = ?",
                            [(*row[1:], row[0]) for row in rows])
            return
        # Dropped at commit; created per batch so a failed batch leaves nothing behind.
        columns = ("id", *SCALARS, "updated_at")
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS import_staging ON COMMIT DROP AS "
                    f"SELECT {', '.join(columns)} FROM subscribers WITH NO DATA")
        with cur.copy(f"COPY import_staging ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        sets = ", ".join(f"{c} = s.{c}" for c in (*SCALARS, "updated_at"))
        cur.execute(f"UPDATE subscribers AS t SET {sets} FROM import_staging AS s WHERE t.id = s.id")
        cur.execute("TRUNCATE import_staging")
    finally:
        cur.close()


def _delete(raw, postgres: bool, table: str, ids: list[int]) -> None:
    if not ids:
        return
    cur = raw.cursor()
    try:
        if postgres:
            cur.execute(f"DELETE FROM {table} WHERE subscriber_id = ANY(%s)", (ids,))
            return
        for start in range(0, len(ids), _DELETE_CHUNK):
            part = ids[start:start + _DELETE_CHUNK]
            cur.execute(f"DELETE FROM {table} WHERE subscriber_id IN ({', '.join('?' * len(part))})",
                        part)
    finally:
        cur.close()
