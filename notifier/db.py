"""Engines and sessions: one engine per process (RQ forks), SQLite tuned for concurrent writers."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from notifier import hints
from notifier.config import ROOT

_engines: dict[tuple[int, str], Engine] = {}
# How long a transaction waits for a lock unless it asks for less with the execution option
# `lock_timeout` (seconds): a webhook must answer before Twilio gives up on it (15 s).
SQLITE_BUSY_MS = 30000
# The audit chain's key per database URL, given by the process's composition root.
_audit_keys: dict[str, str] = {}


def make_engine(url: str) -> Engine:
    """Return a new engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _owner_only_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # isolation_level=None hands transaction control to the events below, so that
            # writers take the lock at BEGIN (IMMEDIATE) instead of failing on upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            options = conn.get_execution_options()
            _sqlite_busy_timeout(conn, options.get("lock_timeout"))
            conn.exec_driver_sql("BEGIN" if options.get("readonly", False) else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    @event.listens_for(engine, "begin")
    def _postgres_lock_timeout(conn):
        seconds = conn.get_execution_options().get("lock_timeout")
        if seconds is not None:  # SET LOCAL: this transaction only
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(seconds * 1000)}")

    return engine


def _sqlite_busy_timeout(conn, seconds: float | None) -> None:
    """Give this transaction's BEGIN IMMEDIATE `seconds` to get the write lock (default 30)."""
    wanted = SQLITE_BUSY_MS if seconds is None else int(seconds * 1000)
    info = conn.connection.info  # per pooled connection: set the pragma only when it changes
    if info.get("busy_ms", SQLITE_BUSY_MS) != wanted:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wanted}")
        info["busy_ms"] = wanted


def _owner_only_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by their owner only, if missing.

    SQLite gives its -wal and -shm files the database file's mode, so they follow.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def get_engine(url: str) -> Engine:
    """Return this process's engine for `url`, making a fresh one after a fork."""
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = make_engine(url)
    return engine


def use_audit_key(url: str, key: str) -> None:
    """Make every session this process opens on `url` carry the audit chain's key.

    The key never goes to the database; `notifier.audit` reads it from `session.info`.
    """
    _audit_keys[url] = key


def audit_key_for(url: str) -> str | None:
    """The audit key given for `url` in this process (None when none was)."""
    return _audit_keys.get(url)


def session_factory(url: str, readonly: bool = False,
                    redis_url: str | None = None) -> sessionmaker[Session]:
    """Return a session maker; `readonly` sessions do not take SQLite's write lock up front.

    With `redis_url`, the sessions tell running workers of the opt-outs and cancels they
    commit at once (notifier.hints); without it, workers find them by their SQL poll.
    """
    engine = get_engine(url)
    if readonly:
        engine = engine.execution_options(readonly=True)
    info = {"audit_key": _audit_keys.get(url)}
    if redis_url:
        info[hints.SESSION_INFO_KEY] = redis_url
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def session_scope(url: str, readonly: bool = False,
                  redis_url: str | None = None) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error; always closed."""
    session = session_factory(url, readonly, redis_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "notifier" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest schema (creating it if needed).

    Migrations that seal the audit log get the key given by `use_audit_key(url, …)`.
    """
    from alembic import command

    cfg = alembic_config(url)
    cfg.attributes["audit_key"] = audit_key_for(url)
    command.upgrade(cfg, "head")
