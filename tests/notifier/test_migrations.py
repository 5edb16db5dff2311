"""The Alembic migrations build exactly the schema the models describe."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from notifier.db import alembic_config, get_engine, upgrade
from notifier.models import Base
from tests.conftest import BACKEND, scratch_postgres_database


@pytest.fixture
def empty_url(tmp_path):
    """A database with no tables at all, for Alembic to build."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with scratch_postgres_database(f"tocsin_migrations_{os.getpid()}") as url:
        yield url


def test_upgrade_head_matches_the_models(empty_url):
    upgrade(empty_url)
    engine = get_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert "deliveries" in inspect(engine).get_table_names()


def test_upgrade_twice_changes_nothing_and_ends_at_the_single_head(empty_url):
    upgrade(empty_url)
    upgrade(empty_url)
    head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
    with get_engine(empty_url).connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head]
