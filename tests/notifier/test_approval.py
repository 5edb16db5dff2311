"""notifier.approval and its use by alerts: the two-person rule, whoever sends."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notifier import alerts, approval
from notifier.db import session_scope
from notifier.errors import ApprovalRequired, Conflict, Forbidden
from notifier.models import AuditEvent, Location, Subscriber, SubscriberGroup, Zone
from notifier.schemas import load_alert

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
CIRCLE = {"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}]}


def body(**changes):
    data = {"headline": "Shelter in place", "messages": {"en": "Stay indoors."},
            "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
            "status": "Actual", "area": CIRCLE, "channels": ["sms"],
            "expires_at": "2026-11-22T12:00:00Z"}
    data.update(changes)
    return data


def draft(settings, author="user:ann", **changes) -> int:
    with session_scope(settings.database_url) as session:
        data = load_alert(body(**changes), settings, None, NOW)
        return alerts.create_alert(session, data, author, NOW).id


@pytest.fixture
def residents(settings):
    """Two residents inside CIRCLE, one far away."""
    with session_scope(settings.database_url) as session:
        for i, lat in enumerate((42.36, 42.361, 42.60)):
            sub = Subscriber(name=f"R{i}", phone=f"+1617555{i:04d}", language="en", channels=["sms"])
            sub.locations.append(Location(lat=lat, lon=-71.06))
            session.add(sub)


def assess(settings, alert_id):
    with session_scope(settings.database_url, readonly=True) as session:
        return approval.assess(session, alerts.get_alert(session, alert_id), settings)


def test_only_actual_alerts_need_it_and_one_to_everyone_always_does(settings, residents):
    huge = dataclasses.replace(settings, approval_threshold=10**9)
    assert assess(huge, draft(settings, area={"everyone": True})) == {
        "needed": True, "residents": 3, "over_threshold": False, "larger_than_any_zone": False,
        "everyone": True, "reasons": ["It goes to everyone in the service area."]}
    assert assess(huge, draft(settings, area={"everyone": True}, status="Exercise"))["needed"] is False
    assert assess(huge, draft(settings))["needed"] is False
    low = dataclasses.replace(settings, approval_threshold=1)
    assert assess(low, draft(settings)) == {
        "needed": True, "residents": 2, "over_threshold": True, "larger_than_any_zone": False,
        "everyone": False,
        "reasons": ["It reaches 2 residents, more than the approval threshold of 1."]}


def test_an_area_is_larger_than_any_zone_only_when_a_zone_exists(settings):
    alert_id = draft(settings)
    assert assess(settings, alert_id)["larger_than_any_zone"] is False  # no zone at all
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="tiny", name="Tiny", keywords=[], geometry={
            "type": "Polygon", "coordinates": [[[-71.06, 42.36], [-71.059, 42.36], [-71.059, 42.361],
                                                [-71.06, 42.361], [-71.06, 42.36]]]},
            min_lat=42.36, min_lon=-71.06, max_lat=42.361, max_lon=-71.059))
    assert assess(settings, alert_id)["larger_than_any_zone"] is True
    assert assess(settings, alert_id)["needed"] is True


def test_start_sending_refuses_an_unapproved_alert_and_changes_nothing(settings, residents):
    alert_id = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        with pytest.raises(ApprovalRequired) as caught:
            alerts.start_sending(session, alert_id, "user:ann", NOW, settings)
        assert isinstance(caught.value, Conflict) and caught.value.message == "approval required"
        assert caught.value.approval["everyone"] is True and caught.value.approval["needed"] is True
    with session_scope(settings.database_url) as session:
        assert alerts.get_alert(session, alert_id).state == "draft"
        assert session.scalars(select(AuditEvent.action)).all() == ["alert.create"]


def test_only_another_dispatcher_or_admin_approves_a_draft(settings, residents):
    alert_id = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        with pytest.raises(Forbidden):
            alerts.approve(session, alert_id, "user:ann", "dispatcher", NOW)
        with pytest.raises(Forbidden):
            alerts.approve(session, alert_id, "user:carl", "auditor", NOW)
        alerts.approve(session, alert_id, "token:supervisor", "admin", NOW)
    with session_scope(settings.database_url) as session:
        alert = alerts.start_sending(session, alert_id, "user:ann", NOW, settings)
        assert alert.state == "sending"
        with pytest.raises(Conflict):
            alerts.approve(session, alert_id, "user:bob", "dispatcher", NOW)


def test_an_approval_covers_only_the_content_approved(settings, residents):
    alert_id = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        alerts.approve(session, alert_id, "user:bob", "dispatcher", NOW)
    with session_scope(settings.database_url) as session:
        alert = alerts.get_alert(session, alert_id)
        assert approval.valid_approval(alert) == ("user:bob", NOW)
        # Any change, even one that bypasses edit_draft, voids it: the digest no longer matches.
        alert.messages = {"en": "Evacuate now."}
    with session_scope(settings.database_url) as session:
        assert approval.valid_approval(alerts.get_alert(session, alert_id)) is None
        with pytest.raises(ApprovalRequired):
            alerts.start_sending(session, alert_id, "user:ann", NOW, settings)


def test_editing_a_draft_clears_its_approval_and_is_audited(settings, residents):
    alert_id = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        alerts.approve(session, alert_id, "user:bob", "dispatcher", NOW)
        alert = alerts.edit_draft(session, alert_id, {"area": CIRCLE, "headline": "Stay in"},
                                  "user:ann", NOW, settings)
        assert (alert.approved_by, alert.approval_digest, alert.headline) == (None, None, "Stay in")
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.details["fields"]) == ("alert.update", ["headline", "area"])
    with session_scope(settings.database_url) as session:
        alerts.start_sending(session, alert_id, "user:ann", NOW, settings)  # now small: no rule
        with pytest.raises(Conflict):
            alerts.edit_draft(session, alert_id, {"headline": "Too late"}, "user:ann", NOW, settings)


def test_a_follow_up_needs_approval_only_when_it_reaches_more_than_the_original(settings, residents):
    alert_id = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        alerts.approve(session, alert_id, "user:bob", "dispatcher", NOW)
        alerts.start_sending(session, alert_id, "user:ann", NOW, settings)
    later = NOW + timedelta(minutes=5)
    with session_scope(settings.database_url) as session:
        _, same = alerts.cancel_alert(session, alert_id, "user:ann", later, settings=settings,
                                      message={"en": "All clear."})
        assert same.state == "sending"  # to everyone again: no one new

    small = draft(settings)
    with session_scope(settings.database_url) as session:
        alerts.start_sending(session, small, "user:ann", NOW, settings)
        original, wider = alerts.cancel_alert(
            session, small, "user:ann", later, settings=settings, msg_type="Update",
            message={"messages": {"en": "It spreads."}, "area": {"everyone": True}})
        assert (original.state, wider.state) == ("cancelled", "draft")
        assert approval.assess(session, wider, settings)["needed"] is True
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.object == f"alert:{wider.id}")).all()
        assert actions == ["alert.create"]  # stored, never sent


def test_an_actual_alert_to_everyone_needs_approval_with_one_resident_and_the_threshold_off(
        settings):
    with session_scope(settings.database_url) as session:
        sub = Subscriber(name="Only", phone="+16175550001", language="en", channels=["sms"])
        sub.locations.append(Location(lat=42.36, lon=-71.06))
        session.add(sub)
    # APPROVAL_THRESHOLD has no "off": the largest number is as off as it gets.
    off = dataclasses.replace(settings, approval_threshold=10**9)
    details = assess(off, draft(settings, area={"everyone": True}))
    assert (details["needed"], details["residents"], details["over_threshold"]) == (True, 1, False)
    assert details["reasons"] == ["It goes to everyone in the service area."]
    assert assess(off, draft(settings))["needed"] is False  # the same resident, by a circle


def test_everyone_needs_approval_even_with_no_resident_and_a_threshold_of_zero(settings):
    zero = dataclasses.replace(settings, approval_threshold=0)
    details = assess(zero, draft(settings, area={"everyone": True}))
    assert (details["needed"], details["residents"], details["over_threshold"]) == (True, 0, False)
    assert assess(zero, draft(settings))["needed"] is False  # reaches nobody: nothing over 0


def test_an_exercise_or_test_to_everyone_follows_the_old_rule_and_never_needs_it(settings, residents):
    with session_scope(settings.database_url) as session:
        for sub in session.scalars(select(Subscriber)):
            sub.group_links.append(SubscriberGroup(name="test"))
    zero = dataclasses.replace(settings, approval_threshold=0)
    for status in ("Exercise", "Test"):
        alert_id = draft(settings, area={"everyone": True}, status=status)
        details = assess(zero, alert_id)
        assert (details["needed"], details["residents"], details["reasons"]) == (False, 3, [])
        with session_scope(settings.database_url) as session:
            assert approval.waiting(session, alerts.get_alert(session, alert_id), zero) is False
            assert alerts.start_sending(session, alert_id, "user:ann", NOW, zero).state == "sending"


def test_a_draft_to_everyone_waits_until_someone_other_than_its_author_approves(
        settings, residents):
    alert_id = draft(settings, area={"everyone": True})

    def waiting():
        with session_scope(settings.database_url, readonly=True) as session:
            return approval.waiting(session, alerts.get_alert(session, alert_id), settings)

    assert waiting() is True
    with session_scope(settings.database_url) as session:
        with pytest.raises(Forbidden):
            alerts.approve(session, alert_id, "user:ann", "admin", NOW)  # an admin author too
    assert waiting() is True
    with session_scope(settings.database_url) as session:
        alerts.approve(session, alert_id, "user:bob", "dispatcher", NOW)
    assert waiting() is False  # approved: ready to send, no longer waiting
    with session_scope(settings.database_url) as session:
        alerts.start_sending(session, alert_id, "user:ann", NOW, settings)
    assert waiting() is False


def test_a_follow_up_widened_to_everyone_needs_approval_even_reaching_no_one_new(
        settings, residents):
    everybody = {"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 50_000}]}
    original = draft(settings, area=everybody)  # all three residents, under the threshold
    with session_scope(settings.database_url) as session:
        alerts.start_sending(session, original, "user:ann", NOW, settings)
        _, wider = alerts.cancel_alert(
            session, original, "user:ann", NOW + timedelta(minutes=5), settings=settings,
            msg_type="Update",
            message={"messages": {"en": "It may spread."}, "area": {"everyone": True}})
        details = approval.assess(session, wider, settings)
        assert (wider.state, details["residents"], details["needed"]) == ("draft", 3, True)
        assert details["reasons"] == ["It goes to everyone in the service area."]
        assert approval.waiting(session, wider, settings) is True


def test_the_drafts_waiting_are_the_recent_unexpired_unapproved_ones_newest_first(
        settings, residents):
    later = NOW + timedelta(hours=1)
    waiting_1 = draft(settings, area={"everyone": True})
    waiting_2 = draft(settings, area={"everyone": True}, author="user:carl")
    approved = draft(settings, area={"everyone": True})
    draft(settings)  # small: needs no approval
    draft(settings, area={"everyone": True}, status="Exercise")
    expired = draft(settings, area={"everyone": True})
    with session_scope(settings.database_url) as session:
        alerts.approve(session, approved, "user:bob", "dispatcher", NOW)
        alerts.get_alert(session, expired).expires_at = NOW + timedelta(minutes=30)
    with session_scope(settings.database_url, readonly=True) as session:
        found = approval.drafts_waiting(session, settings, since=NOW - timedelta(hours=24),
                                        now=later)
        assert [a.id for a in found] == [waiting_2, waiting_1]
        assert approval.drafts_waiting(session, settings, since=NOW + timedelta(minutes=1),
                                       now=later) == []
