"""/signup: residents sign themselves up; a phone is confirmed by a texted code, an email by a
link; nobody is a subscriber, listed or reached before that."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier import subscriptions
from notifier.db import session_scope
from notifier.models import AuditEvent, Consent, Subscriber, Topic
from tests.admin_ui.api.test_addresses import load_town
from tests.admin_ui.signup_support import (last_code, last_link, outbox, page_client, post_form,
                                           signup_form)

PHONE = "+16175550142"


@pytest.fixture
def web(app, settings):
    load_town(settings)
    return page_client(app)


def sign_up(web, **fields):
    return post_form(web, "/signup", "/signup", signup_form(**fields))


def subscribers(settings) -> list[Subscriber]:
    with session_scope(settings.database_url, readonly=True) as session:
        rows = session.scalars(select(Subscriber).order_by(Subscriber.id)).all()
        for sub in rows:
            _ = (sub.locations, sub.zone_links, sub.topic_links)
        session.expunge_all()
        return list(rows)


def enter(web, code: str):
    return post_form(web, "/signup/confirm", "/signup/confirm", {"action": "code", "code": code})


def test_the_form_works_in_the_readers_language_with_right_to_left_for_arabic(web):
    html = web.get("/signup?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html and 'data-testid="signup-form"' in html
    assert 'name="csrf_token"' in html and "js/address_suggest.js" in html
    spanish = web.get("/signup", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert 'lang="es"' in spanish.get_data(as_text=True)


def test_a_phone_sign_up_texts_a_code_and_the_code_makes_the_subscriber(web, settings, auth,
                                                                        client):
    response = sign_up(web, phone="617-555-0142")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert subscribers(settings) == []
    assert client.get("/api/v1/subscribers", headers=auth("dispatcher")).get_json()["items"] == []
    [text] = outbox(settings, PHONE)
    assert "Tocsin demo: your code is" in text.body and "10 minutes" in text.body
    assert enter(web, last_code(settings, PHONE)).status_code == 200
    [sub] = subscribers(settings)
    assert (sub.phone, sub.channels, [z.zone_code for z in sub.zone_links]) == (
        PHONE, ["sms"], ["beat-1"])
    assert [(loc.label, loc.lat, loc.lon) for loc in sub.locations] == [("home", 42.4, -71.4)]
    listed = client.get("/api/v1/subscribers", headers=auth("dispatcher")).get_json()["items"]
    assert [s["phone"] for s in listed] == [PHONE]
    with session_scope(settings.database_url, readonly=True) as session:
        consent = session.scalar(select(Consent).where(Consent.address == PHONE))
        actors = set(session.scalars(select(AuditEvent.actor).where(
            AuditEvent.action.in_(["resident.signup", "subscriber.opt_in"]))))
    assert consent.source == "web-signup" and "I agree to receive emergency alerts" in consent.wording
    assert actors == {f"resident:{sub.id}"}


def test_an_address_matching_several_points_is_refused_listing_them(web, settings):
    response = sign_up(web, phone=PHONE, **{"address-0": "Ave"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "More than one address matches" in html and "3 Beech Ave" in html
    assert outbox(settings, PHONE) == []


def test_channels_need_their_address_and_consent_must_be_ticked(web, settings):
    response = sign_up(web, phone=PHONE, channels=["sms", "email"], consent="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Email needs an email address." in html and "Tick the box to agree" in html


def test_a_zone_and_topics_can_be_chosen_instead_of_an_address(web, settings):
    with session_scope(settings.database_url) as session:
        session.add(Topic(code="traffic", name={"en": "Road closures"}, keywords=[]))
    sign_up(web, phone=PHONE, topics=["traffic"], **{"address-0": "", "zone-0": "beat-1"})
    enter(web, last_code(settings, PHONE))
    [sub] = subscribers(settings)
    assert [t.topic_code for t in sub.topic_links] == ["traffic"]
    assert sub.locations == [] and [z.zone_code for z in sub.zone_links] == ["beat-1"]


def test_a_wrong_code_is_refused_and_five_wrong_entries_void_the_right_one(web, settings):
    sign_up(web, phone=PHONE)
    right = last_code(settings, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        assert "That code is not right" in enter(web, wrong).get_data(as_text=True)
    assert "no longer works" in enter(web, wrong).get_data(as_text=True)
    assert "no longer works" in enter(web, right).get_data(as_text=True)
    assert subscribers(settings) == []


def test_a_fourth_code_within_the_hour_sends_nothing_and_says_so(web, settings):
    sign_up(web, phone=PHONE)
    for _ in range(2):
        post_form(web, "/signup/confirm", "/signup/confirm", {"action": "resend"})
    html = post_form(web, "/signup/confirm", "/signup/confirm",
                     {"action": "resend"}).get_data(as_text=True)
    assert "3 codes in the last hour" in html
    assert len(outbox(settings, PHONE)) == 3


def test_one_client_address_may_not_sign_up_without_end(web, settings):
    for i in range(20):
        assert sign_up(web, phone=f"+1617555{1000 + i}").status_code == 200
    response = sign_up(web, phone="+16175559999")
    assert response.status_code == 422 and "Too many sign-ups" in response.get_data(as_text=True)
    assert outbox(settings, "+16175559999") == []


def test_an_email_is_confirmed_by_the_link_it_receives_double_opt_in(web, settings):
    sign_up(web, email="Ana@Example.org", channels=["email"])
    [mail] = outbox(settings, "ana@example.org")
    assert "Confirm your sign-up" in mail.subject
    path = last_link(settings, "ana@example.org")
    assert subscribers(settings) == []
    page = web.get(path)  # a mail scanner's GET confirms nothing
    assert page.status_code == 200 and subscribers(settings) == []
    assert post_form(web, path, path, {}).status_code == 200
    [sub] = subscribers(settings)
    assert (sub.email, sub.phone, sub.channels) == ("ana@example.org", None, ["email"])


def test_an_unconfirmed_email_beside_a_confirmed_phone_is_left_off(web, settings):
    sign_up(web, phone=PHONE, email="ana@example.org", channels=["sms", "email"])
    enter(web, last_code(settings, PHONE))
    [sub] = subscribers(settings)
    assert (sub.phone, sub.email, sub.channels) == (PHONE, None, ["sms"])
    path = last_link(settings, "ana@example.org")
    post_form(web, path, path, {})
    [sub] = subscribers(settings)
    assert (sub.email, sub.channels) == ("ana@example.org", ["sms", "email"])


def test_a_number_that_texted_stop_needs_the_code_and_confirming_opts_it_in(web, settings):
    with session_scope(settings.database_url) as session:
        session.add(Subscriber(phone=PHONE, language="en", channels=["sms"]))
        session.flush()
        from datetime import datetime, timezone
        subscriptions.opt_out(session, PHONE, "sms", "keyword", "STOP",
                              datetime.now(timezone.utc))
    sign_up(web, phone=PHONE)
    with session_scope(settings.database_url, readonly=True) as session:
        assert subscriptions.opted_out(session, [PHONE], "sms") == {PHONE}
    enter(web, last_code(settings, PHONE))
    with session_scope(settings.database_url, readonly=True) as session:
        assert subscriptions.opted_out(session, [PHONE], "sms") == set()
    assert len(subscribers(settings)) == 1


def test_a_post_without_the_forms_csrf_token_is_refused_and_sends_nothing(web, settings):
    web.get("/signup")
    assert web.post("/signup", data=signup_form(phone=PHONE)).status_code == 400
    assert outbox(settings, PHONE) == []
