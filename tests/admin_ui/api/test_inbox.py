"""GET /api/v1/inbox: residents' texts that were no keyword, newest first, for every role."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.conversation import handle_inbound
from notifier.db import session_scope
from tests.admin_ui.conftest import NOW, make_subscriber


@pytest.fixture
def texts(settings):
    """Five texts: three questions (one from a known resident) and two keywords."""
    with session_scope(settings.database_url) as session:
        known = make_subscriber(session, phone="+16175550101").id
        for n, (frm, body) in enumerate([
                ("+16175550100", "Is the shelter on Elm St open?"), ("+16175550100", "HELP"),
                ("+16175550101", "=HYPERLINK(\"http://x\")"), ("+16175550102", "STOP"),
                ("+16175550102", "why am I getting these")]):
            handle_inbound(session, settings, frm, "+15005550006", body, f"SM{n}",
                           NOW + timedelta(minutes=n))
    return known


@pytest.mark.parametrize("role", ["admin", "dispatcher"])  # auditors: masked, below
def test_it_lists_texts_that_were_no_keyword_newest_first(client, auth, texts, role):
    response = client.get("/api/v1/inbox", headers=auth(role))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3 and (body["page"], body["per_page"]) == (1, 50)
    assert [(m["from"], m["body"]) for m in body["items"]] == [
        ("+16175550102", "why am I getting these"),
        ("+16175550101", "=HYPERLINK(\"http://x\")"),
        ("+16175550100", "Is the shelter on Elm St open?")]
    first = body["items"][0]
    assert set(first) == {"id", "at", "from", "body", "subscriber_id"}
    assert first["at"] == "2026-11-22T03:04:00Z"
    assert [m["subscriber_id"] for m in body["items"]] == [None, texts, None]


def test_it_masks_the_senders_for_an_auditor(client, auth, texts):
    body = client.get("/api/v1/inbox", headers=auth("auditor")).get_json()
    assert [m["from"] for m in body["items"]] == ["+1617*****02", "+1617*****01", "+1617*****00"]
    assert body["items"][0]["body"] == "why am I getting these"


def test_it_pages(client, auth, texts):
    body = client.get("/api/v1/inbox?page=2&per_page=2", headers=auth("dispatcher")).get_json()
    assert (body["total"], len(body["items"])) == (3, 1)
    assert body["items"][0]["body"] == "Is the shelter on Elm St open?"
    assert client.get("/api/v1/inbox?page=0", headers=auth("dispatcher")).status_code == 422


def test_it_needs_a_token(client, texts):
    response = client.get("/api/v1/inbox")
    assert response.status_code == 401 and response.is_json
