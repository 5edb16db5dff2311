"""notifier.alerts: the alert state machine, its guard against double sends, and its audit trail."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notifier import alerts, audit, deliveries
from notifier.db import session_scope
from notifier.errors import Conflict, InvalidInput, NotFound
from notifier.models import Alert, AuditEvent, Subscriber
from notifier.schemas import load_alert

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
AREA = {"description": "Downtown", "circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}]}


def body(**changes):
    data = {"headline": "Shelter in place", "messages": {"en": "Stay indoors.", "es": "Quédese adentro."},
            "severity": "Severe", "urgency": "Immediate", "certainty": "Observed", "status": "Exercise",
            "area": AREA, "channels": ["sms", "voice"], "expires_at": "2026-11-22T12:00:00Z"}
    data.update(changes)
    return data


def draft(db_url, settings, **changes) -> int:
    with session_scope(db_url) as session:
        return alerts.create_alert(session, load_alert(body(**changes), settings, set(), NOW),
                                   "ana", NOW).id


def test_a_new_alert_is_a_draft_with_a_cap_identifier(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        alert = alerts.get_alert(session, alert_id)
        assert alert.state == "draft" and alert.created_by == "ana"
        assert alerts.IDENTIFIER.match(alert.identifier)
        assert "," not in alert.identifier and " " not in alert.identifier
        shape = alerts.alert_dict(session, alert)
        assert shape["state"] == "draft" and shape["status"] == "Exercise"
        assert shape["messages"] == {"en": "Stay indoors.", "es": "Quédese adentro."}
        assert shape["expires_at"] == "2026-11-22T12:00:00Z"
        assert shape["area"] == AREA and shape["event"] == "Shelter in place"
        assert shape["stats"] == {"recipients": 0, "channels": {}, "acknowledged": 0,
                                  "failovers": {}}
        assert "stats" not in alerts.alert_dict(session, alert, stats=False)
        (event,) = session.scalars(select(AuditEvent)).all()
        assert (event.action, event.object, event.actor) == ("alert.create", f"alert:{alert_id}", "ana")


def test_identifiers_are_unique(db_url, settings):
    ids = {draft(db_url, settings) for _ in range(3)}
    with session_scope(db_url) as session:
        identifiers = set(session.scalars(select(Alert.identifier).where(Alert.id.in_(ids))))
    assert len(identifiers) == 3


def test_sending_moves_draft_to_sending_then_sent(db_url, settings):
    alert_id = draft(db_url, settings)
    later = NOW + timedelta(minutes=1)
    with session_scope(db_url) as session:
        alert = alerts.start_sending(session, alert_id, "ana", later, settings)
        assert (alert.state, alert.sent_at) == ("sending", later)
    with session_scope(db_url) as session:
        with pytest.raises(Conflict) as caught:
            alerts.start_sending(session, alert_id, "bob", later, settings)
        assert caught.value.message == "alert already sent"
    with session_scope(db_url) as session:
        assert alerts.mark_fanned_out(session, alert_id, later) is True
        assert alerts.mark_fanned_out(session, alert_id, later) is False
    with session_scope(db_url) as session:
        alert = alerts.get_alert(session, alert_id)
        assert alert.state == "sent" and alert.fanned_out_at == later
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["alert.create", "alert.send", "alert.fanned_out"]
        assert audit.verify_chain(session) == (True, None)


def test_two_concurrent_sends_cannot_both_win(db_url, settings):
    alert_id = draft(db_url, settings)
    outcome = {}
    with session_scope(db_url) as first:
        alerts.start_sending(first, alert_id, "ana", NOW, settings)

        def second_send():
            try:
                with session_scope(db_url) as second:
                    alerts.start_sending(second, alert_id, "bob", NOW, settings)
                outcome["second"] = "sent"
            except Conflict as exc:
                outcome["second"] = exc.message

        thread = threading.Thread(target=second_send)
        thread.start()
        time.sleep(0.5)  # the second session is now waiting on the first one's lock
        assert "second" not in outcome
    thread.join(30)
    assert outcome == {"second": "alert already sent"}
    with session_scope(db_url) as session:
        sends = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.send")).all()
        assert [e.actor for e in sends] == ["ana"]


def test_an_expired_draft_is_not_sent(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        with pytest.raises(Conflict):
            alerts.start_sending(session, alert_id, "ana", NOW + timedelta(days=1), settings)


def test_unknown_alerts_are_not_found(db_url, settings):
    with session_scope(db_url) as session:
        for call in (lambda: alerts.get_alert(session, 99), lambda: alerts.start_sending(session, 99, "a", NOW, settings),
                     lambda: alerts.cancel_alert(session, 99, "a", NOW)):
            with pytest.raises(NotFound):
                call()


def _with_deliveries(db_url, settings, alert_id):
    with session_scope(db_url) as session:
        subs = [Subscriber(phone=f"+1617555010{i}", language="en", channels=["sms"]) for i in range(3)]
        session.add_all(subs)
        session.flush()
        ids = deliveries.insert_pending(session, [
            {"alert_id": alert_id, "subscriber_id": s.id, "channel": "sms", "address": s.phone,
             "language": "en"} for s in subs], NOW)
        claimed = deliveries.claim(session, [ids[0][0]], NOW)
        deliveries.mark_sent(session, [(claimed[0].id, "SM1")], NOW)


def test_cancelling_stops_undelivered_work(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        alerts.start_sending(session, alert_id, "ana", NOW, settings)
    _with_deliveries(db_url, settings, alert_id)
    with session_scope(db_url) as session:
        alert, follow_up = alerts.cancel_alert(session, alert_id, "bob", NOW)
        assert (alert.state, alert.cancelled_at, follow_up) == ("cancelled", NOW, None)
    with session_scope(db_url) as session:
        stats = alerts.alert_dict(session, alerts.get_alert(session, alert_id))["stats"]
        assert stats["channels"]["sms"]["cancelled"] == 2 and stats["channels"]["sms"]["sent"] == 1
        with pytest.raises(Conflict):
            alerts.cancel_alert(session, alert_id, "bob", NOW)
        assert alerts.mark_fanned_out(session, alert_id, NOW) is False  # a cancel is final
        with pytest.raises(Conflict) as caught:
            alerts.start_sending(session, alert_id, "ana", NOW, settings)
        assert "cancelled" in caught.value.message


def test_a_draft_can_be_cancelled_but_not_corrected(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput):
            alerts.cancel_alert(session, alert_id, "ana", NOW, message={"en": "never mind"})
        assert alerts.cancel_alert(session, alert_id, "ana", NOW)[0].state == "cancelled"


def test_an_all_clear_follows_with_cap_references(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        original = alerts.start_sending(session, alert_id, "ana", NOW, settings)
        identifier = original.identifier
    with session_scope(db_url) as session:
        _, new = alerts.cancel_alert(session, alert_id, "ana", NOW + timedelta(minutes=5),
                                     message={"en": "All clear.", "es": "Todo despejado."},
                                     settings=settings)
        new_id = new.id
    with session_scope(db_url) as session:
        new = alerts.get_alert(session, new_id)
        assert new.state == "sending" and new.msg_type == "Cancel"
        assert new.status == "Exercise" and new.area == AREA and new.channels == ["sms", "voice"]
        assert new.messages == {"en": "All clear.", "es": "Todo despejado."}
        assert new.references == f"tocsin.example.org,{identifier},2026-11-22T06:00:00+00:00"
        assert new.references_alert_id == alert_id
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        # Stopped because the follow-up replaces it: its own action, after the follow-up exists.
        assert actions == ["alert.create", "alert.send", "alert.create", "alert.replace", "alert.send"]


def test_a_channel_that_cannot_send_is_refused_but_never_blocks_an_all_clear(db_url, settings):
    with pytest.raises(InvalidInput) as caught:
        load_alert(body(channels=["sms", "social"]), settings, set(), NOW)
    assert list(caught.value.errors) == ["channels"]
    assert caught.value.errors["channels"][0].startswith("Social cannot send:")
    with session_scope(db_url) as session:  # stored before the rule, as old alerts were
        old = alerts.create_alert(session, load_alert(body(), settings, set(), NOW), "ana", NOW)
        old.channels = ["sms", "social"]
        alerts.start_sending(session, old.id, "ana", NOW, settings)
        _, new = alerts.cancel_alert(session, old.id, "ana", NOW, message={"en": "All clear."},
                                     settings=settings)
        assert new.state == "sending" and new.channels == ["sms"]


def test_a_correction_can_be_a_full_update_body(db_url, settings):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        alerts.start_sending(session, alert_id, "ana", NOW, settings)
        _, new = alerts.cancel_alert(session, alert_id, "ana", NOW, settings=settings, message={
            "headline": "Shelter in place lifted east of Main", "msg_type": "Update",
            "messages": {"en": "East of Main St is safe."}, "severity": "Moderate"})
        assert (new.msg_type, new.headline, new.severity) == ("Update", "Shelter in place lifted east of Main", "Moderate")
        assert new.status == "Exercise"


@pytest.mark.parametrize("message", [{"en": ""}, {"xx": "hi"}, {"messages": {"en": "x"}, "status": "Actual"},
                                     {"messages": {"en": "x"}, "msg_type": "Alert"}, "All clear"])
def test_a_bad_follow_up_changes_nothing(db_url, settings, message):
    alert_id = draft(db_url, settings)
    with session_scope(db_url) as session:
        alerts.start_sending(session, alert_id, "ana", NOW, settings)
    with pytest.raises(InvalidInput):
        with session_scope(db_url) as session:
            alerts.cancel_alert(session, alert_id, "ana", NOW, message=message, settings=settings)
    with session_scope(db_url) as session:
        assert alerts.get_alert(session, alert_id).state == "sending"


def test_alerts_are_listed_newest_first(db_url, settings):
    ids = [draft(db_url, settings) for _ in range(3)]
    with session_scope(db_url) as session:
        alerts.start_sending(session, ids[1], "ana", NOW, settings)
        items, total = alerts.list_alerts(session, page=1, per_page=2)
        assert total == 3 and [a.id for a in items] == [ids[2], ids[1]]
        assert [a.id for a in alerts.list_alerts(session, 1, 50, state="sending")[0]] == [ids[1]]
        with pytest.raises(InvalidInput):
            alerts.list_alerts(session, 1, 50, state="lost")


def test_a_transient_alert_is_never_stored(db_url, settings):
    alert = alerts.transient_alert(load_alert(body(), settings, set(), NOW))
    assert alert.id is None and alert.state == "draft" and alert.msg_type == "Alert"
    with session_scope(db_url) as session:
        assert session.scalars(select(Alert)).all() == []
        assert alerts.alert_dict(session, alert)["headline"] == "Shelter in place"
