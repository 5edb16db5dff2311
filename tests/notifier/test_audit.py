"""notifier.audit: an append-only log whose hash chain shows any edit."""
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from notifier import audit
from notifier.db import session_scope
from notifier.models import AuditEvent

NOW = datetime(2026, 11, 22, 6, 0, 0, 123456, tzinfo=timezone.utc)


def _fill(db_url, n=5):
    with session_scope(db_url) as session:
        return [audit.record(session, "ana", f"alert.{i}", f"alert:{i}", {"n": i, "ok": True},
                             NOW + timedelta(seconds=i)).id for i in range(n)]


def test_each_event_chains_to_the_one_before(db_url):
    ids = _fill(db_url, 3)
    with session_scope(db_url) as session:
        events = sorted(audit.list_events(session)[0], key=lambda e: e.id)
        assert [e.id for e in events] == ids
        assert events[0].prev_hash == audit.GENESIS
        assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
        assert audit.verify_chain(session) == (True, None)


def test_an_empty_log_verifies(db_url):
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (True, None)


def test_an_edited_row_is_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"),
                        {"id": ids[2]})
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[2])


def test_edited_details_are_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("UPDATE audit_events SET details = :d WHERE id = :id"),
                        {"d": '{"n": 99, "ok": true}', "id": ids[1]})
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[1])


def test_a_deleted_row_is_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[3])


def test_deleting_the_newest_rows_is_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": ids[3]})
    with session_scope(db_url) as session:
        ok, bad = audit.verify_chain(session)
        assert not ok and bad == ids[2] + 1


def test_phone_numbers_never_reach_the_log_unmasked(db_url):
    with session_scope(db_url) as session:
        event = audit.record(session, "api:cad", "subscriber.create", "subscriber:1",
                             {"phone": "+16175550100", "note": "from +16175550100",
                              "list": ["+442079460958"]}, NOW)
    with session_scope(db_url) as session:
        row = session.execute(text("SELECT details FROM audit_events")).scalar_one()
        assert "6175550100" not in str(row) and "2079460958" not in str(row)
        assert event.details["phone"] == "+1617*****00"
        assert audit.verify_chain(session) == (True, None)


def test_concurrent_writers_keep_one_unbroken_chain(db_url):
    errors = []

    def write(actor):
        try:
            for i in range(15):
                with session_scope(db_url) as session:
                    audit.record(session, actor, "test.write", None, {"i": i}, NOW)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_scope(db_url) as session:
        events, total = audit.list_events(session, per_page=100)
        assert total == 45
        assert len({e.prev_hash for e in events}) == 45  # nobody chained onto the same hash
        assert audit.verify_chain(session) == (True, None)


def test_events_are_listed_newest_first_with_filters(db_url):
    _fill(db_url, 4)
    with session_scope(db_url) as session:
        audit.record(session, "bob", "alert.1", "alert:9", {}, NOW)
    with session_scope(db_url) as session:
        items, total = audit.list_events(session, page=1, per_page=2)
        assert total == 5 and [e.actor for e in items] == ["bob", "ana"]
        assert audit.list_events(session, page=3, per_page=2)[0][0].action == "alert.0"
        assert audit.list_events(session, actor="bob")[1] == 1
        assert audit.list_events(session, action="alert.1")[1] == 2
        assert audit.list_events(session, object="alert:9")[1] == 1
        shape = audit.event_dict(items[0])
        assert set(shape) == {"id", "at", "actor", "action", "object", "details", "hash"}
        assert shape["at"].endswith("Z")


def test_events_are_filtered_by_a_half_open_time_range_and_actions_listed(db_url):
    _fill(db_url, 4)  # at NOW, NOW+1s, NOW+2s, NOW+3s
    with session_scope(db_url) as session:
        since, until = NOW + timedelta(seconds=1), NOW + timedelta(seconds=3)
        items, total = audit.list_events(session, since=since, until=until)
        assert total == 2 and [e.action for e in items] == ["alert.2", "alert.1"]
        assert audit.list_events(session, since=NOW + timedelta(seconds=3))[1] == 1
        assert audit.actions(session) == ["alert.0", "alert.1", "alert.2", "alert.3"]


def _rechain_unkeyed(session, from_id):
    """What someone with only the database can do: recompute the SHA-256 chain and its head."""
    prev = audit.GENESIS
    for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if row.id >= from_id:
            digest = audit.event_hash(prev, row.at, row.actor, row.action, row.object, row.details)
            session.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                            {"p": prev, "h": digest, "id": row.id})
            prev = digest
        else:
            prev = row.hash
    session.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_a_rewritten_event_is_found_even_with_the_sha256_chain_recomputed(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("UPDATE audit_events SET details = :d WHERE id = :id"),
                        {"d": '{"n": 99, "ok": true}', "id": ids[2]})
        _rechain_unkeyed(session, ids[2])
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[2])


def test_a_removed_seal_is_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        session.execute(text("UPDATE audit_events SET mac = NULL WHERE id = :id"), {"id": ids[3]})
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[3])


def test_cutting_off_the_newest_events_and_moving_the_head_is_found(db_url):
    ids = _fill(db_url)
    with session_scope(db_url) as session:
        kept = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == ids[2]))
        session.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": ids[2]})
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": kept})
    with session_scope(db_url) as session:
        assert audit.verify_chain(session) == (False, ids[2] + 1)


def test_the_chain_verifies_only_with_its_own_key(db_url):
    _fill(db_url, 2)
    with session_scope(db_url) as session:
        session.info["audit_key"] = "another-key-" + "x" * 30
        assert audit.verify_chain(session)[0] is False


def test_a_session_without_the_key_writes_and_verifies_nothing(db_url):
    import pytest

    from notifier.errors import ConfigError

    with session_scope(db_url) as session:
        session.info["audit_key"] = None
        with pytest.raises(ConfigError) as caught:
            audit.record(session, "ana", "alert.send", "alert:1", {}, NOW)
        assert caught.value.variable == "AUDIT_KEY"
        with pytest.raises(ConfigError):
            audit.verify_chain(session)
