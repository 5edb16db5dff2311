"""Change stamps of the tables an alert's reach (and its preview) is made of, written by triggers.

`notifier.reach_cache` keeps residents' locations, zone follows and groups in memory and
reloads a part only when its tables' stamp changed. Triggers, not ORM events, so bulk writes
that bypass the ORM (executemany, COPY, raw SQL) stamp too. Kept apart from `notifier.models`
(which imports this module at its end).

SQLite (one writer at a time) keeps one row per table and sets its version to a random
number on each write: random, not +1, so a rolled-back write that a cache already saw can
never be mistaken for a later committed one. PostgreSQL appends one row per statement
instead (statement-level triggers, so a COPY of a million rows writes one): appends never
wait on each other's row locks, where updating one counter row would queue every writer of
residents behind the longest import and could deadlock two of them. The stamp of a table is
(rows, highest id, that row's random version): a late commit of a lower id moves the count,
and a log truncated with RESTART IDENTITY (the tests do) does not repeat an old stamp. Every
1,000th append drops an older band of 1,000 rows, so the log stays small.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, event, inspect, text
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models import Base

# Each table, and the columns whose change moves a reach (a name or updated_at does not).
WATCHED = {
    "subscribers": ("id", "phone", "email", "language", "channels", "quiet_hours"),
    "locations": ("id", "subscriber_id", "lat", "lon"),
    "subscriber_zones": ("subscriber_id", "zone_code"),
    "subscriber_groups": ("subscriber_id", "name"),
    "zones": ("code", "geometry", "min_lat", "min_lon", "max_lat", "max_lon"),
    "opt_outs": ("address", "channel"),
}
_SQLITE_ROW = {table: n for n, table in enumerate(WATCHED, start=1)}


class ReachStamp(Base):
    """One change stamp (SQLite: the current one of a table; PostgreSQL: one per statement)."""

    __tablename__ = "reach_stamps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # the table written
    version: Mapped[int] = mapped_column(BigInteger, default=0)


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tocsin_reach_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  INSERT INTO reach_stamps (source, version)
    VALUES (TG_TABLE_NAME, (random() * 9.2e18)::bigint) RETURNING id INTO n;
  IF mod(n, 1000) = 0 THEN
    -- a band no other prune touches: two prunes never wait on each other's deleted rows
    DELETE FROM reach_stamps WHERE id > n - 2000 AND id <= n - 1000;
  END IF;
  RETURN NULL;
END $$
"""


def statements(dialect: str) -> list[str]:
    """The DDL that installs the stamps' triggers (and SQLite's rows) on `dialect`."""
    if dialect == "postgresql":
        out = [_PG_FUNCTION]
        for table, columns in WATCHED.items():
            out.append(f"DROP TRIGGER IF EXISTS reach_stamp ON {table}")
            out.append(f"CREATE TRIGGER reach_stamp AFTER INSERT OR DELETE OR UPDATE OF "
                       f"{', '.join(columns)} ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION tocsin_reach_stamp()")
            out.append(f"DROP TRIGGER IF EXISTS reach_stamp_truncate ON {table}")
            out.append(f"CREATE TRIGGER reach_stamp_truncate AFTER TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION tocsin_reach_stamp()")
        return out
    if dialect != "sqlite":
        return []
    out = []
    for table, columns in WATCHED.items():
        row = _SQLITE_ROW[table]
        out.append(f"INSERT OR IGNORE INTO reach_stamps (id, source, version) "
                   f"VALUES ({row}, '{table}', random())")
        for op, what in (("insert", "INSERT"), ("delete", "DELETE"),
                         ("update", f"UPDATE OF {', '.join(columns)}")):
            out.append(f"CREATE TRIGGER IF NOT EXISTS reach_stamp_{table}_{op} AFTER {what} "
                       f"ON {table} BEGIN UPDATE reach_stamps SET version = random() "
                       f"WHERE id = {row}; END")
    return out


def drop_statements(dialect: str) -> list[str]:
    """The DDL that removes what `statements` installed (the migration's downgrade)."""
    if dialect == "postgresql":
        out = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table in WATCHED
               for name in ("reach_stamp", "reach_stamp_truncate")]
        return out + ["DROP FUNCTION IF EXISTS tocsin_reach_stamp()"]
    if dialect != "sqlite":
        return []
    return [f"DROP TRIGGER IF EXISTS reach_stamp_{table}_{op}" for table in WATCHED
            for op in ("insert", "delete", "update")]


def install(conn) -> None:
    """Install the triggers on `conn`'s database (idempotent)."""
    for sql in statements(conn.dialect.name):
        conn.exec_driver_sql(sql)


@event.listens_for(Base.metadata, "after_create")
def _after_create(_metadata, connection, **_kw) -> None:
    # create_all (tests, benchmarks, `init-db` without Alembic) installs them as the migration
    # does; a create_all of a few tables only (a benchmark's) may lack the watched ones.
    if set(WATCHED) | {"reach_stamps"} <= set(inspect(connection).get_table_names()):
        install(connection)


def current(conn) -> dict[str, tuple]:
    """Table name → its stamp now, as seen by `conn` (a table never written may be absent):
    (rows, highest id, the random version of that row)."""
    rows = conn.execute(text(
        "SELECT s.source, c.n, s.id, s.version FROM reach_stamps s JOIN (SELECT source, "
        "count(*) AS n, max(id) AS top FROM reach_stamps GROUP BY source) c "
        "ON s.source = c.source AND s.id = c.top"))
    return {source: (n, top, version) for source, n, top, version in rows}
