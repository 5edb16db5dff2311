"""/feeds: the public Atom feed of active Actual alerts and their public CAP documents."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from sqlalchemy import select

from notifier.accounts import create_user
from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.conftest import make_alert
from tests.admin_ui.pages.conftest import PASSWORD, page_client, sign_in
from tests.support.peers import CAP_SCHEMA

SCHEMA = etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))
ATOM = {"a": "http://www.w3.org/2005/Atom", "cap": "urn:oasis:names:tc:emergency:cap:1.2"}
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def alerts(settings) -> dict:
    """name → identifier of alerts in every state/status the feed must tell apart."""
    sent = NOW - timedelta(minutes=30)
    later = timedelta(hours=2)
    rows = {
        "live": dict(state="sent", sent_at=sent, expires_at=NOW + later),
        "newer": dict(state="sending", sent_at=sent + timedelta(minutes=5), expires_at=None,
                      messages={"en": "Boil water.", "es": "Hierva el agua."}),
        "expired": dict(state="sent", sent_at=sent, expires_at=NOW - timedelta(minutes=1)),
        "cancelled": dict(state="cancelled", sent_at=sent, cancelled_at=NOW),
        "draft": dict(state="draft", sent_at=None),
        "exercise": dict(state="sent", sent_at=sent, status="Exercise"),
        "test": dict(state="sent", sent_at=sent, status="Test"),
    }
    with session_scope(settings.database_url) as session:
        return {name: make_alert(session, identifier=f"tocsin-feed-{name}", headline=name,
                                 **values).identifier
                for name, values in rows.items()}


def test_the_feed_is_public_atom_listing_only_active_actual_alerts(client, alerts):
    response = client.get("/feeds/alerts.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = etree.fromstring(response.data)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("a:title", namespaces=ATOM)
    assert feed.findtext("a:updated", namespaces=ATOM).endswith("Z")
    entries = feed.findall("a:entry", ATOM)
    # A cancelled public alert is not silently dropped: a CAP Cancel stands for it, newest first.
    assert [e.findtext("a:title", namespaces=ATOM) for e in entries] == [
        "Cancelled: cancelled", "newer", "live"]


def test_each_entry_links_and_carries_a_valid_cap_document(client, alerts):
    feed = etree.fromstring(client.get("/feeds/alerts.atom").data)
    for entry in feed.findall("a:entry", ATOM):
        link = entry.find("a:link[@rel='alternate']", ATOM)
        assert link.get("type") == "application/cap+xml"
        href = link.get("href")
        assert href.startswith("https://tocsin.example.org/feeds/alerts/")
        inline = entry.find("a:content/cap:alert", ATOM)
        assert SCHEMA.validate(inline), SCHEMA.error_log
        response = client.get(href.removeprefix("https://tocsin.example.org"))
        assert response.status_code == 200
        assert response.mimetype == "application/cap+xml"
        document = etree.fromstring(response.data)
        assert SCHEMA.validate(document), SCHEMA.error_log
        assert document.findtext("cap:identifier", namespaces=ATOM) == \
            inline.findtext("cap:identifier", namespaces=ATOM)
        assert document.findtext("cap:status", namespaces=ATOM) == "Actual"


def test_the_bilingual_alert_has_one_info_per_language(client, alerts):
    response = client.get(f"/feeds/alerts/{alerts['newer']}.xml")
    infos = etree.fromstring(response.data).findall("cap:info", ATOM)
    assert [(i.findtext("cap:language", namespaces=ATOM), i.findtext("cap:description",
                                                                     namespaces=ATOM))
            for i in infos] == [("en", "Boil water."), ("es", "Hierva el agua.")]


@pytest.mark.parametrize("name", ["draft", "exercise", "test"])
def test_drafts_exercises_and_tests_have_no_public_document(client, alerts, name):
    assert client.get(f"/feeds/alerts/{alerts[name]}.xml").status_code == 404


def test_an_unknown_identifier_is_404(client, alerts):
    assert client.get("/feeds/alerts/nothing-here.xml").status_code == 404


def test_an_alert_that_went_out_keeps_its_public_document_after_it_ends(client, alerts):
    # Readers who saw it in the feed can still fetch it; the feed itself no longer lists it.
    for name in ("expired", "cancelled"):
        assert client.get(f"/feeds/alerts/{alerts[name]}.xml").status_code == 200


def test_an_empty_feed_is_still_valid_atom(client):
    feed = etree.fromstring(client.get("/feeds/alerts.atom").data)
    assert feed.findall("a:entry", ATOM) == []
    assert feed.findtext("a:id", namespaces=ATOM)


def test_the_alert_page_links_the_public_or_the_signed_in_cap_document(app, settings, alerts):
    with session_scope(settings.database_url) as session:
        create_user(session, "reader-1", "auditor", PASSWORD)
        ids = {name: session.scalar(select(Alert.id).where(Alert.identifier == alerts[name]))
               for name in ("live", "exercise")}
    client = page_client(app)
    assert sign_in(client, "reader-1").status_code == 302
    live_page = client.get(f"/alerts/{ids['live']}").get_data(as_text=True)
    assert f'href="/feeds/alerts/{alerts["live"]}.xml"' in live_page
    exercise_page = client.get(f"/alerts/{ids['exercise']}").get_data(as_text=True)
    assert f'href="/alerts/{ids["exercise"]}/cap.xml"' in exercise_page
    response = client.get(f"/alerts/{ids['exercise']}/cap.xml")
    assert response.status_code == 200 and response.mimetype == "application/cap+xml"
    assert SCHEMA.validate(etree.fromstring(response.data))
    assert page_client(app).get(f"/alerts/{ids['exercise']}/cap.xml").status_code in (302, 401)


def test_a_stored_alert_with_a_control_character_still_gives_a_valid_feed_and_cap(client,
                                                                                  settings):
    # Stored before text_rules refused it (or written by hand): the public documents survive.
    with session_scope(settings.database_url) as session:
        identifier = make_alert(session, identifier="tocsin-feed-vt", state="sent",
                                sent_at=NOW, headline="Flood\x0bwarning",
                                messages={"en": "Stay\x0bindoors.\x00"},
                                instruction="Go\x1bup.", area={"description": "Down\x0btown",
                                                               "everyone": True}).identifier
    response = client.get("/feeds/alerts.atom")
    assert response.status_code == 200
    entry = etree.fromstring(response.data).find("a:entry", ATOM)
    assert entry.findtext("a:title", namespaces=ATOM) == "Flood warning"
    assert SCHEMA.validate(entry.find("a:content/cap:alert", ATOM)), SCHEMA.error_log
    document = client.get(f"/feeds/alerts/{identifier}.xml")
    assert document.status_code == 200
    assert SCHEMA.validate(etree.fromstring(document.data)), SCHEMA.error_log


def test_a_cancelled_alert_becomes_a_cap_cancel_that_references_it(client, alerts, settings):
    feed = etree.fromstring(client.get("/feeds/alerts.atom").data)
    entry = feed.find("a:entry", ATOM)
    document = entry.find("a:content/cap:alert", ATOM)
    SCHEMA.assertValid(document)
    with session_scope(settings.database_url, readonly=True) as session:
        original = session.scalar(select(Alert).where(Alert.identifier == alerts["cancelled"]))
        sent = original.sent_at
    assert document.findtext("cap:msgType", namespaces=ATOM) == "Cancel"
    assert document.findtext("cap:identifier", namespaces=ATOM) == alerts["cancelled"] + "-cancel"
    sender, identifier, when = document.findtext("cap:references", namespaces=ATOM).split(",")
    assert (sender, identifier) == ("tocsin.example.org", alerts["cancelled"])
    assert datetime.fromisoformat(when) == sent.replace(tzinfo=timezone.utc)
    assert document.findtext("cap:info/cap:urgency", namespaces=ATOM) == "Past"
    assert "has been cancelled" in document.findtext("cap:info/cap:description", namespaces=ATOM)
    href = entry.find("a:link[@rel='alternate']", ATOM).get("href")
    assert href.endswith(f"/feeds/alerts/{alerts['cancelled']}-cancel.xml")
    response = client.get(href.split("tocsin.example.org")[1])
    assert response.status_code == 200 and response.mimetype == "application/cap+xml"
    SCHEMA.assertValid(etree.fromstring(response.data))
    # The original's own document stays, and an alert never cancelled has no Cancel document.
    assert client.get(f"/feeds/alerts/{alerts['cancelled']}.xml").status_code == 200
    assert client.get(f"/feeds/alerts/{alerts['live']}-cancel.xml").status_code == 404


def test_a_follow_up_speaks_for_itself_and_an_old_cancel_leaves_the_feed(client, alerts, settings):
    with session_scope(settings.database_url) as session:
        original = session.scalar(select(Alert).where(Alert.identifier == alerts["cancelled"]))
        make_alert(session, identifier="tocsin-feed-all-clear", headline="All clear",
                   state="sending", sent_at=NOW, msg_type="Cancel",
                   references_alert_id=original.id)
        make_alert(session, identifier="tocsin-feed-old", headline="old", state="cancelled",
                   sent_at=NOW - timedelta(days=2), cancelled_at=NOW - timedelta(hours=25))
    titles = [e.findtext("a:title", namespaces=ATOM) for e in
              etree.fromstring(client.get("/feeds/alerts.atom").data).findall("a:entry", ATOM)]
    assert "All clear" in titles
    assert "Cancelled: cancelled" not in titles and "Cancelled: old" not in titles
