"""/me: a single-use sign-in link by SMS or email, then changes (audited as the resident's),
"Stop everything" (later alerts skip them) and "Erase my data"; no account enumeration."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notifier import accounts, residents
from notifier.db import session_scope
from notifier.models import AuditEvent, Delivery, OptOut, SandboxMessage, Subscriber
from notifier.signup_models import ResidentLink, Signup
from tests.admin_ui.api.test_addresses import load_town
from tests.admin_ui.signup_support import (last_code, last_link, outbox, page_client, post_form,
                                           signup_form)
from tests.test_end_to_end import run_workers

PHONE = "+16175550142"


@pytest.fixture
def web(app, settings):
    load_town(settings)
    return page_client(app)


def signed_up(web, settings, **fields) -> int:
    """A confirmed resident (phone and SMS); returns their id."""
    post_form(web, "/signup", "/signup", signup_form(phone=PHONE, **fields))
    post_form(web, "/signup/confirm", "/signup/confirm",
              {"action": "code", "code": last_code(settings, PHONE)})
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.phone == PHONE))


def sign_in(web, settings, address=PHONE, typed=None):
    post_form(web, "/me", "/me/link", {"address": typed or address})
    path = last_link(settings, address)
    assert web.get(path).status_code == 200  # a link preview's GET spends nothing
    return post_form(web, path, path, {}, follow=True)


def actions_by(settings, actor: str) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.actor == actor)
                                    .order_by(AuditEvent.id)))


def test_a_sign_in_link_by_sms_opens_my_page_once(web, settings):
    sub_id = signed_up(web, settings)
    page = sign_in(web, settings)
    assert page.status_code == 200 and 'data-testid="me-form"' in page.get_data(as_text=True)
    path = last_link(settings, PHONE)
    again = post_form(page_client(web.application), path, path, {})
    assert again.status_code == 404
    assert "resident.sign_in" in actions_by(settings, f"resident:{sub_id}")


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(web, settings):
    signed_up(web, settings)
    known = post_form(web, "/me", "/me/link", {"address": PHONE}).get_data(as_text=True)
    unknown = post_form(web, "/me", "/me/link", {"address": "+16175550199"})
    assert unknown.status_code == 200
    marker = "If this phone number or email address is signed up"
    assert marker in known and marker in unknown.get_data(as_text=True)
    assert outbox(settings, "+16175550199") == []


def test_a_sign_in_link_expires_after_15_minutes_and_works_once(settings, db_url):
    now = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
    with session_scope(db_url) as session:
        sub = Subscriber(phone=PHONE, language="en", channels=["sms"])
        session.add(sub)
        session.flush()
        late = residents.new_link(session, sub, "sms", now)
        once = residents.new_link(session, sub, "sms", now)
        assert residents.use_link(session, late.id, now + timedelta(minutes=15)) is None
        assert residents.use_link(session, once.id, now + timedelta(minutes=14)).id == sub.id
        assert residents.use_link(session, once.id, now + timedelta(minutes=14)) is None
        assert session.get(ResidentLink, once.id).used_at is not None


def test_changes_on_my_page_are_saved_and_audited_as_mine(web, settings):
    sub_id = signed_up(web, settings)
    sign_in(web, settings)
    response = post_form(web, "/me", "/me", {
        "language": "es", "channels": ["sms", "voice"], "keep": ["location-0"],
        "kind-0": "work", "address-0": "12 Avenue Rd"})
    assert response.status_code == 200, response.get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.get(Subscriber, sub_id)
        assert (sub.language, sub.channels) == ("es", ["sms", "voice"])
        assert [loc.label for loc in sub.locations] == ["home", "work"]
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "resident.update"))
    assert event.actor == f"resident:{sub_id}"
    assert event.details["fields"] == ["channels", "language", "locations"]


def test_stop_everything_opts_out_every_address_and_the_next_alert_skips_them(
        web, settings, env, monkeypatch):
    for name, value in env.items():  # the jobs read their settings from the environment
        monkeypatch.setenv(name, value)
    sub_id = signed_up(web, settings, email="ana@example.org", channels=["sms", "email"])
    path = last_link(settings, "ana@example.org")
    post_form(web, path, path, {})
    sign_in(web, settings)
    page = post_form(web, "/me", "/me/stop", {})
    assert "Everything is stopped" in page.get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        ledger = set(session.execute(select(OptOut.address, OptOut.channel)))
        assert ledger == {(PHONE, "sms"), (PHONE, "voice"), ("ana@example.org", "email")}
        assert "resident.stop_everything" in actions_by(settings, f"resident:{sub_id}")
        token = accounts.create_token(session, "cad", "dispatcher")
    api = web.application.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = api.post("/api/v1/alerts", headers=headers, json={
        "headline": "Boil water", "messages": {"en": "Boil water before use."},
        "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
        "status": "Actual", "area": {"description": "Beat 1", "zones": ["beat-1"]},
        "channels": ["sms", "email"]})
    assert created.status_code == 201, created.get_json()
    alert_id = created.get_json()["id"]
    assert api.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
    run_workers(settings)
    with session_scope(settings.database_url, readonly=True) as session:
        rows = {(d.channel, d.status) for d in session.scalars(
            select(Delivery).where(Delivery.alert_id == alert_id, Delivery.subscriber_id == sub_id))}
        texts = session.scalars(select(SandboxMessage.body).where(SandboxMessage.to == PHONE))
        assert not any("Boil water" in t for t in texts)
    assert rows == {("sms", "skipped"), ("email", "skipped")}


def test_a_pending_sign_up_is_not_reached_by_an_alert(web, settings, env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    post_form(web, "/signup", "/signup", signup_form(phone=PHONE))
    with session_scope(settings.database_url) as session:
        token = accounts.create_token(session, "cad", "dispatcher")
    api = web.application.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    alert_id = api.post("/api/v1/alerts", headers=headers, json={
        "headline": "Boil water", "messages": {"en": "Boil water before use."},
        "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
        "status": "Actual", "area": {"description": "Beat 1", "zones": ["beat-1"]},
        "channels": ["sms"]}).get_json()["id"]
    assert api.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
    run_workers(settings)
    assert [m.body for m in outbox(settings, PHONE)][1:] == []  # only the code was sent


def test_erase_my_data_removes_the_record_and_the_sign_up(web, settings):
    sub_id = signed_up(web, settings)
    sign_in(web, settings)
    page = post_form(web, "/me", "/me/erase", {})
    assert "Your data is erased." in page.get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Subscriber, sub_id) is None
        assert session.scalars(select(Signup)).all() == []
    assert outbox(settings, PHONE) == []
    assert "resident.erase" in actions_by(settings, f"resident:{sub_id}")
    assert web.get("/me").get_data(as_text=True).count('data-testid="me-link-form"') == 1


def test_a_sign_in_link_by_email_works_too_and_a_stale_session_ends(web, settings):
    post_form(web, "/signup", "/signup", signup_form(email="ana@example.org", channels=["email"]))
    path = last_link(settings, "ana@example.org")
    post_form(web, path, path, {})
    page = sign_in(web, settings, "ana@example.org", typed=" ANA@example.org ")
    assert 'data-testid="me-form"' in page.get_data(as_text=True)
    with web.session_transaction() as cookie:
        cookie["resident_until"] = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    assert 'data-testid="me-link-form"' in web.get("/me").get_data(as_text=True)


def test_leaving_a_topic_on_my_page_is_audited_as_mine(web, settings):
    from notifier.models import Topic

    with session_scope(settings.database_url) as session:
        session.add(Topic(code="traffic", name={"en": "Road closures"}, keywords=[]))
    sub_id = signed_up(web, settings, topics=["traffic"])
    sign_in(web, settings)
    html = web.get("/me").get_data(as_text=True)
    assert 'data-testid="signup-topic-traffic" checked' in html
    response = post_form(web, "/me", "/me", {"language": "en", "channels": ["sms"],
                                             "keep": ["location-0", "zone-beat-1"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.get(Subscriber, sub_id)
        assert sub.topic_links == [] and [z.zone_code for z in sub.zone_links] == ["beat-1"]
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "resident.update"))
    assert (event.actor, event.details["fields"]) == (f"resident:{sub_id}", ["topics"])


def test_my_quiet_hours_are_set_on_my_page_checked_and_audited_as_mine(web, settings):
    sub_id = signed_up(web, settings)
    sign_in(web, settings)
    assert 'data-testid="me-quiet-hours"' in web.get("/me").get_data(as_text=True)
    bad = post_form(web, "/me", "/me", {"language": "en", "channels": ["sms"],
                                        "keep": ["location-0", "zone-beat-1"], "quiet_hours": "after dinner"})
    assert bad.status_code == 422 and 'data-testid="errors-quiet_hours"' in bad.get_data(as_text=True)
    response = post_form(web, "/me", "/me", {"language": "en", "channels": ["sms"],
                                             "keep": ["location-0", "zone-beat-1"], "quiet_hours": "22:30-6:00"})
    assert response.status_code == 200, response.get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Subscriber, sub_id).quiet_hours == "22:30-06:00"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "resident.update"))
    assert (event.actor, event.details["fields"]) == (f"resident:{sub_id}", ["quiet_hours"])
