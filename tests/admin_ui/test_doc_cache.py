"""admin_ui.doc_cache: the feed and CAP documents built once per change, 304 for readers who
have them, rebuilt after a send, a cancel or an expiry — also when another process made it."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from sqlalchemy import update

from admin_ui import create_app
from notifier import alerts, zones
from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.api.test_zones import box
from tests.admin_ui.conftest import make_alert
from tests.admin_ui.test_feeds import ATOM

FEED = "/feeds/alerts.atom"


def now() -> datetime:
    return datetime.now(timezone.utc)


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [e.findtext("a:title", namespaces=ATOM)
            for e in etree.fromstring(response.data).findall("a:entry", ATOM)]


def add_alert(settings, **values) -> Alert:
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, **{"state": "sent", "sent_at": now() - timedelta(minutes=5),
                                       **values})
        session.expunge(alert)
        return alert


@pytest.fixture
def live(settings) -> Alert:
    return add_alert(settings, headline="Boil water")


def test_the_feed_answers_304_to_a_reader_who_has_it(client, live):
    first = client.get(FEED)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] in ("public, max-age=30", "max-age=30, public")
    again = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(FEED, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_a_repeated_request_is_served_from_the_cache(client, settings, live):
    assert titles(client.get(FEED)) == ["Boil water"]
    # Changed behind the cache's back (no send, cancel or new row): the built feed is kept.
    with session_scope(settings.database_url) as session:
        session.execute(update(Alert).where(Alert.id == live.id).values(headline="Changed"))
    assert titles(client.get(FEED)) == ["Boil water"]


def test_the_feed_changes_after_a_send_and_after_a_cancel(client, settings, live):
    first = client.get(FEED)
    assert client.get(FEED, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    draft = add_alert(settings, headline="Evacuate", state="draft", sent_at=None)
    assert client.get(FEED, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    with session_scope(settings.database_url) as session:
        # An Actual alert to everyone: a second person approves it first (the two-person rule).
        alerts.approve(session, draft.id, "token:second", "dispatcher", now())
        alerts.start_sending(session, draft.id, "test", now(), settings)
    sent = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert titles(sent) == ["Evacuate", "Boil water"]
    assert sent.headers["ETag"] != first.headers["ETag"]
    with session_scope(settings.database_url) as session:
        alerts.cancel_alert(session, live.id, "test", now())
    cancelled = client.get(FEED, headers={"If-None-Match": sent.headers["ETag"],
                                          "If-Modified-Since": sent.headers["Last-Modified"]})
    # The cancelled one is now its CAP Cancel notice, the newest entry.
    assert titles(cancelled) == ["Cancelled: Boil water", "Evacuate"]


def test_an_expired_alert_leaves_the_cached_feed_on_time(client, settings, live):
    add_alert(settings, headline="Road closed", expires_at=now() + timedelta(seconds=1.5))
    first = client.get(FEED)
    assert titles(first) == ["Boil water", "Road closed"] or \
        titles(first) == ["Road closed", "Boil water"]
    assert int(first.headers["Cache-Control"].split("max-age=")[1].split(",")[0]) <= 1
    assert client.get(FEED, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    time.sleep(1.6)
    # Nothing in the database changed; only the time passed.
    later = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert titles(later) == ["Boil water"]


def test_two_app_instances_see_each_other_s_changes(settings, auth, live):
    web_1, web_2 = create_app(settings).test_client(), create_app(settings).test_client()
    seen_1 = web_1.get(FEED)
    assert titles(seen_1) == ["Boil water"]
    assert web_1.get(FEED, headers={"If-None-Match": seen_1.headers["ETag"]}).status_code == 304
    response = web_2.post(f"/api/v1/alerts/{live.id}/cancel", headers=auth("dispatcher"))
    assert response.status_code == 200, response.get_json()
    assert titles(web_1.get(FEED, headers={"If-None-Match": seen_1.headers["ETag"]})) == [
        "Cancelled: Boil water"]


def test_a_cap_document_answers_304_and_changes_when_its_zone_is_redrawn(client, settings):
    with session_scope(settings.database_url) as session:
        zones.put_zone(session, "beat-3", {"name": "Beat 3",
                                           "geometry": box(-71.07, 42.35, -71.05, 42.37)}, now())
    alert = add_alert(settings, area={"zones": ["beat-3"]})
    url = f"/feeds/alerts/{alert.identifier}.xml"
    first = client.get(url)
    assert first.status_code == 200 and "-71.05" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] in ("public, max-age=30", "max-age=30, public")
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    with session_scope(settings.database_url) as session:
        zones.put_zone(session, "beat-3", {"name": "Beat 3",
                                           "geometry": box(-71.07, 42.35, -71.04, 42.37)}, now())
    redrawn = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert redrawn.status_code == 200 and "-71.04" in redrawn.get_data(as_text=True)


def test_the_api_cap_document_is_revalidated_privately(client, auth, live):
    url = f"/api/v1/alerts/{live.id}/cap.xml"
    first = client.get(url, headers=auth("auditor"))
    assert first.status_code == 200 and "private" in first.headers["Cache-Control"]
    again = client.get(url, headers={**auth("auditor"), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 401


def test_a_draft_s_api_cap_document_is_never_served_stale(client, auth, settings):
    draft = add_alert(settings, headline="First words", state="draft", sent_at=None)
    url = f"/api/v1/alerts/{draft.id}/cap.xml"
    assert "First words" in client.get(url, headers=auth("auditor")).get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        session.execute(update(Alert).where(Alert.id == draft.id).values(headline="Edited"))
    assert "Edited" in client.get(url, headers=auth("auditor")).get_data(as_text=True)
