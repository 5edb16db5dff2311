"""Auditor tokens read residents' addresses masked and no live links (DESIGN §9); others in full."""
from __future__ import annotations

import csv
import io

import pytest

from notifier import deliveries
from notifier.db import session_scope
from notifier.models import Delivery, SandboxMessage
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber

LINKS = ("Confirm: https://tocsin.example.org/email/ack/eyJhIjoxfQ.abc\n"
         "Stop: https://tocsin.example.org/email/unsubscribe/eyJ2IjoyfQ.Zz")


@pytest.fixture
def settings(sandbox_settings):
    """The outbox exists only with SANDBOX=1 set explicitly."""
    return sandbox_settings


@pytest.fixture
def alert_id(settings) -> int:
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, channels=["sms", "email"])
        sub = make_subscriber(session, phone="+16175550100", email="ana@example.org")
        make_delivery(session, alert, sub)
        make_delivery(session, alert, sub, channel="email", address="ana@example.org")
        session.add(SandboxMessage(at=NOW, channel="email", to="ana@example.org", subject="Alert",
                                   body=LINKS, delivery_id=2, provider_id="SB1"))
        return alert.id


def test_an_auditor_reads_delivery_addresses_masked(client, auth, alert_id):
    items = client.get(f"/api/v1/alerts/{alert_id}/deliveries",
                       headers=auth("auditor")).get_json()["items"]
    assert [d["address"] for d in items] == ["+1617*****00", "a***@example.org"]


@pytest.mark.parametrize("role", ["admin", "dispatcher"])
def test_admins_and_dispatchers_read_them_in_full(client, auth, alert_id, role):
    items = client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=auth(role)).get_json()["items"]
    assert [d["address"] for d in items] == ["+16175550100", "ana@example.org"]
    outbox = client.get("/api/v1/sandbox/outbox", headers=auth(role)).get_json()["items"]
    assert (outbox[0]["to"], outbox[0]["body"]) == ("ana@example.org", LINKS)


def test_an_auditors_csv_is_masked_too(client, auth, alert_id):
    text = client.get(f"/api/v1/alerts/{alert_id}/deliveries.csv",
                      headers=auth("auditor")).get_data(as_text=True)
    assert [r["address"] for r in csv.DictReader(io.StringIO(text))] == ["'+1617*****00",
                                                                        "a***@example.org"]
    assert "5550100" not in text and "ana@" not in text


def test_an_auditor_sees_the_outbox_without_addresses_or_live_links(client, auth, alert_id):
    item = client.get("/api/v1/sandbox/outbox", headers=auth("auditor")).get_json()["items"][0]
    assert item["to"] == "a***@example.org"
    assert item["body"] == ("Confirm: https://tocsin.example.org/email/ack/…\n"
                            "Stop: https://tocsin.example.org/email/unsubscribe/…")


def test_provider_error_texts_are_stored_masked(settings, alert_id):
    with session_scope(settings.database_url) as session:
        row = make_delivery(session, make_alert(session), None, address="bo@example.org",
                            channel="email", status="sending")
        deliveries.mark_failed(session, [(row.id, "550",
                                          "550 5.1.1 <bo@example.org>: Recipient rejected")], NOW)
        retry = make_delivery(session, make_alert(session), None, status="sending")
        deliveries.schedule_retry(session, [(retry.id, "30003", "(617) 555-0199 unreachable",
                                             NOW)], NOW)
        deliveries.apply_provider_status(session, session.get(Delivery, 1), "failed", NOW,
                                         error_code="30005", error_message="+16175550100 unknown")
        session.expire_all()
        assert [session.get(Delivery, i).error_message for i in (row.id, retry.id, 1)] == [
            "550 5.1.1 <b***@example.org>: Recipient rejected", "6175****99 unreachable",
            "+1617*****00 unknown"]
