"""Holds the test database locked from a connection of its own, as a stuck admin session would."""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import make_url

# The fault is "database locked for 20 s"; CI holds it for less (TEST_DB_LOCK_SECONDS
# raises it): the code path is the same, a bounded wait then a 503 or a retried write.
LOCK_SECONDS = float(os.environ.get("TEST_DB_LOCK_SECONDS", "5"))
# PostgreSQL locks these tables (LOCK TABLE … ACCESS EXCLUSIVE: even reads wait); SQLite has
# one lock for the whole file (BEGIN EXCLUSIVE: every writer waits, WAL readers go on).
TABLES = ("deliveries", "inbound_messages", "opt_outs")


@contextmanager
def database_locked(url: str, seconds: float = LOCK_SECONDS) -> Iterator[threading.Event]:
    """Lock the database at `url` from a thread for `seconds`; yield once it is held.

    The yielded event is set when the lock is let go. Leaving the block waits for that.
    """
    held, released = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold():
        try:
            with _locked(url):
                held.set()
                time.sleep(seconds)
        except BaseException as exc:  # reported in the test's thread below
            failure.append(exc)
            held.set()
        finally:
            released.set()

    thread = threading.Thread(target=hold, name="db-lock", daemon=True)
    thread.start()
    held.wait(30)
    if failure:
        raise failure[0]
    try:
        yield released
    finally:
        thread.join(seconds + 30)
    if failure:
        raise failure[0]


@contextmanager
def _locked(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.database, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    import psycopg

    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        with conn.transaction():
            conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
            yield
