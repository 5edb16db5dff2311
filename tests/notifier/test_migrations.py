"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from notifier.db import alembic_config, get_engine, upgrade
from notifier.models import Base

pytestmark = pytest.mark.database


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


def _legacy_events(url: str, count: int) -> list[int]:
    """Events as Tocsin wrote them before the seal: the SHA-256 chain only (schema 0004)."""
    from datetime import datetime, timedelta, timezone

    from alembic import command

    from notifier.audit import GENESIS, event_hash

    command.upgrade(alembic_config(url), "0004")
    at0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    prev = GENESIS
    with get_engine(url).begin() as conn:
        for i in range(count):
            at = at0 + timedelta(minutes=i)
            digest = event_hash(prev, at, "ana", "alert.send", f"alert:{i}", {"n": i})
            conn.execute(text("INSERT INTO audit_events (at, actor, action, object, details,"
                              " prev_hash, hash) VALUES (:at, 'ana', 'alert.send', :o, :d,"
                              " :p, :h)"),
                         {"at": at, "o": f"alert:{i}", "d": f'{{"n": {i}}}',
                          "p": prev, "h": digest})
            prev = digest
        ids = list(conn.execute(text("SELECT id FROM audit_events ORDER BY id")).scalars())
        conn.execute(text("INSERT INTO audit_head (id, hash) VALUES (1, :h)"), {"h": prev})
    return ids


def _verify(url: str):
    from notifier import audit
    from notifier.db import session_scope

    with session_scope(url, readonly=True) as session:
        return audit.verify_chain(session)


def test_the_upgrade_seals_an_intact_legacy_chain_with_the_key(empty_url):
    from datetime import datetime, timezone

    from notifier import audit
    from notifier.db import session_scope, use_audit_key

    _legacy_events(empty_url, 3)
    use_audit_key(empty_url, "upgrade-audit-key-" + "u" * 20)
    upgrade(empty_url)
    assert _verify(empty_url) == (True, None)
    with session_scope(empty_url) as session:
        audit.record(session, "bob", "alert.cancel", "alert:1", {}, datetime.now(timezone.utc))
    assert _verify(empty_url) == (True, None)


def test_the_upgrade_leaves_an_already_altered_event_unsealed(empty_url):
    from notifier.db import use_audit_key

    ids = _legacy_events(empty_url, 4)
    with get_engine(empty_url).begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": ids[2]})
    use_audit_key(empty_url, "upgrade-audit-key-" + "u" * 20)
    upgrade(empty_url)
    assert _verify(empty_url) == (False, ids[2])


def test_the_upgrade_of_a_log_without_the_key_stops_naming_audit_key(empty_url):
    from notifier.db import use_audit_key
    from notifier.errors import ConfigError

    _legacy_events(empty_url, 1)
    use_audit_key(empty_url, "")
    with pytest.raises(ConfigError) as caught:
        upgrade(empty_url)
    assert caught.value.variable == "AUDIT_KEY"


def test_the_public_ids_migration_gives_every_existing_alert_its_own(empty_url):
    from alembic import command

    from notifier.public_ids import looks_like

    command.upgrade(alembic_config(empty_url), "0010_inbox_replies")
    with get_engine(empty_url).begin() as conn:
        for i in range(5):
            conn.execute(text(
                "INSERT INTO alerts (identifier, state, status, msg_type, category, event,"
                " headline, severity, urgency, certainty, messages, area, channels, confirm,"
                " created_by, created_at) VALUES (:identifier, 'sent', 'Actual', 'Alert',"
                " 'Safety', 'Test', 'Old alert', 'Severe', 'Immediate', 'Observed',"
                " '{\"en\": \"Stay indoors.\"}', '{\"everyone\": true}', '[\"sms\"]', false,"
                " 'test', CURRENT_TIMESTAMP)"), {"identifier": f"old-{i}"})
    upgrade(empty_url)
    with get_engine(empty_url).connect() as conn:
        ids = conn.execute(text("SELECT public_id FROM alerts ORDER BY id")).scalars().all()
    assert len(ids) == 5 and len(set(ids)) == 5
    assert all(looks_like(value) for value in ids)
    column = next(c for c in inspect(get_engine(empty_url)).get_columns("alerts")
                  if c["name"] == "public_id")
    assert column["nullable"] is False
