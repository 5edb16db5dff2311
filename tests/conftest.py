"""Fixtures on real parts: a real Redis (flushed around each test), SQLite or PostgreSQL."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import redis
from sqlalchemy import create_engine, text

from notifier.config import Settings
from notifier.db import get_engine, use_audit_key
from notifier.models import Base
from tests.support.services import redis_answers, start_bundled_redis, worker_index

pytest_plugins = ["tests.support.fixtures"]

# TEST_DATABASE=postgresql runs the suite on PostgreSQL (make test does both).
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
# The audit chain's key in every test process: the env fixture's AUDIT_KEY, and the key of
# sessions that tests open on their own database without an app.
TEST_AUDIT_KEY = "test-audit-key-long-enough-for-the-minimum"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """URL of a real Redis: $TEST_REDIS_URL, else 127.0.0.1:6379, else a bundled one we start."""
    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379"
    if redis_answers(url):
        yield url
        return
    url, proc = start_bundled_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def redis_url(redis_server) -> str:
    """A Redis database index of this test's own, flushed before and after (as rq's tests do)."""
    url = f"{redis_server.rstrip('/')}/{10 + worker_index() % 6}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@contextmanager
def scratch_postgres_database(name: str) -> Iterator[str]:
    """Create database `name` on the test server (dropping a leftover one); drop it after."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> str | None:
    """A database of this test run's own on the PostgreSQL server, with the schema."""
    if BACKEND != "postgresql":
        yield None
        return
    # The pid keeps two runs on one machine (a developer's and CI's) out of each other's way.
    with scratch_postgres_database(f"tocsin_test_{os.getpid()}_{worker_index()}") as url:
        Base.metadata.create_all(get_engine(url))
        yield url


@pytest.fixture
def db_url(tmp_path: Path, postgres_database) -> str:
    """An empty database with the current schema: a fresh SQLite file, or PostgreSQL truncated."""
    if postgres_database is None:
        url = f"sqlite:///{tmp_path / 'tocsin.db'}"
        use_audit_key(url, TEST_AUDIT_KEY)
        Base.metadata.create_all(get_engine(url))
        yield url
        get_engine(url).dispose()
        return
    use_audit_key(postgres_database, TEST_AUDIT_KEY)
    engine = get_engine(postgres_database)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield postgres_database


@pytest.fixture
def empty_url(tmp_path) -> Iterator[str]:
    """A database with no tables at all, for Alembic to build (a scratch one on PostgreSQL)."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with scratch_postgres_database(f"tocsin_empty_{os.getpid()}_{worker_index()}") as url:
        yield url


@pytest.fixture
def env(db_url, redis_url, tmp_path) -> dict:
    """The environment a deployment would have, pointing at this test's database and Redis."""
    return {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key-long-enough-for-the-minimum",
        "AUDIT_KEY": TEST_AUDIT_KEY,
        "PUBLIC_URL": "https://tocsin.example.org",
        "TOCSIN_INSTANCE": str(tmp_path / "instance"),
        # Tests name their alerts' channels; the severity routing's own tests turn it on
        # (tests/notifier/test_severity_routing.py, test_severity_channels_*.py).
        "SEVERITY_CHANNELS": "none",
        # Routine alerts would wait overnight by the wall clock, so a test's result would depend
        # on the hour CI runs; the quiet-hours tests set their hours and clock themselves.
        "QUIET_HOURS": "off",
    }


@pytest.fixture
def settings(env) -> Settings:
    """No credentials and no SANDBOX: channels record, but two-factor sign-in is required."""
    return Settings.from_env(env)


@pytest.fixture
def sandbox_settings(env) -> Settings:
    """SANDBOX=1 set explicitly: the sandbox page and API exist, two-factor is optional."""
    return Settings.from_env({**env, "SANDBOX": "1"})


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL pass, run only the tests that touch a database.

    A test that never asks for `db_url` or `empty_url` (directly or through `env`, `settings`, an
    app…) runs
    the same code on both passes; running it twice only costs CI time. `@pytest.mark.database`
    keeps a test that builds its own database; TEST_ALL_ON_POSTGRES=1 runs everything.
    """
    if BACKEND != "postgresql" or os.environ.get("TEST_ALL_ON_POSTGRES") == "1":
        return
    kept, deselected = [], []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        uses_database = ("db_url" in fixtures or "empty_url" in fixtures
                         or item.get_closest_marker("database") is not None)
        (kept if uses_database else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
