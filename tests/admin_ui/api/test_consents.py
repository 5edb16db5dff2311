"""Consent records and the opt-out ledger: per subscriber and as formula-safe CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from notifier import subscriptions
from notifier.conversation import handle_inbound
from notifier.db import session_scope
from notifier.models import Subscriber
from tests.admin_ui.conftest import NOW

ANA = "+16175550100"


@pytest.fixture
def ana(settings):
    """Ana texted START, then STOP, then START again; Bo was opted out by the carrier."""
    with session_scope(settings.database_url) as session:
        for n, body in enumerate(["START", "STOP", "START"]):
            handle_inbound(session, settings, ANA, "+15005550006", body, f"SM{n}",
                           NOW + timedelta(minutes=n))
        handle_inbound(session, settings, ANA, "+15005550006", "STOP", "SM9",
                       NOW + timedelta(minutes=9))
        subscriptions.opt_out(session, "+16175550199", "sms", "carrier", None, NOW)
        subscriptions.opt_in(session, "bo@example.org", "email", "api", "=cmd|' /C calc'!A0", NOW)
        return session.scalar(select(Subscriber.id).where(Subscriber.phone == ANA))


@pytest.mark.parametrize("role", ["admin", "dispatcher", "auditor"])
def test_a_subscriber_shows_every_consent_and_their_opt_out(client, auth, ana, role):
    response = client.get(f"/api/v1/subscribers/{ana}/consents", headers=auth(role))
    assert response.status_code == 200
    body = response.get_json()
    assert [(c["at"], c["source"], c["channel"]) for c in body["consents"]] == [
        ("2026-11-22T03:00:00Z", "keyword", "sms"), ("2026-11-22T03:02:00Z", "keyword", "sms")]
    assert "Msg frequency varies" in body["consents"][0]["wording"]
    assert body["opt_outs"] == [{"at": "2026-11-22T03:09:00Z", "address": ANA, "channel": "sms",
                                 "source": "keyword", "body": "STOP"}]
    subscriber = client.get(f"/api/v1/subscribers/{ana}", headers=auth("dispatcher")).get_json()
    assert subscriber["opted_out"] == {"sms": True, "voice": False, "email": False}


def test_an_unknown_subscriber_is_404(client, auth, ana):
    assert client.get("/api/v1/subscribers/999/consents", headers=auth("admin")).status_code == 404


def test_the_consents_export_is_formula_safe_csv(client, auth, ana):
    response = client.get("/api/v1/consents.csv", headers=auth("auditor"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["id", "at", "address", "channel", "source", "wording"]
    assert [r[2] for r in rows[1:]] == ["'" + ANA, "'" + ANA, "bo@example.org"]
    assert rows[-1][5] == "'=cmd|' /C calc'!A0"


def test_the_opt_out_ledger_export_lists_every_address_and_source(client, auth, ana):
    response = client.get("/api/v1/opt-outs.csv", headers=auth("dispatcher"))
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["address", "channel", "at", "source", "body"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows[1:]] == [
        ("'" + ANA, "sms", "keyword", "STOP"), ("'+16175550199", "sms", "carrier", "")]


def test_the_exports_need_a_token(client, ana):
    assert client.get("/api/v1/consents.csv").status_code == 401
    assert client.get("/api/v1/opt-outs.csv").status_code == 401
