"""The alert page's live part: one word per meaning, sandbox marks, stats.json's time and
finality, and a deliveries table that agrees with the counts (issue 11 items 4 and 5)."""
from __future__ import annotations

import re

import pytest

from admin_ui import create_app
from admin_ui.pages import labels
from notifier.config import Settings
from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code
from tests.support.fixtures import TWILIO_FROM_NUMBER

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "2" * 32,
          "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER}


def visible_text(html: str) -> str:
    """The page's text as read: tags (and so attribute values) taken out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def signed_in_on(settings: Settings, user, role: str = "auditor"):
    """A client of a fresh app on `settings`, signed in as a new user of `role`."""
    app = create_app(settings)
    app.config["TESTING"] = True
    client = page_client(app)
    assert sign_in_with_code(client, user(f"{role}-x", role)).status_code == 302
    client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
    return client


def add_deliveries(settings, alert_overrides: dict, *rows: dict) -> int:
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, **alert_overrides)
        for i, row in enumerate(rows):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            make_delivery(session, alert, sub, **row)
        return alert.id


def test_stopped_alerts_withheld_messages_and_all_clears_each_have_their_own_words(
        signed_in, settings, auth, client):
    alert_id = add_deliveries(settings, {"state": "cancelled", "msg_type": "Cancel"},
                              {"status": "delivered"}, {"status": "cancelled", "sent_at": None})
    html = signed_in("auditor").get(f"/alerts/{alert_id}").get_data(as_text=True)
    text = visible_text(html)
    assert 'data-testid="alert-state" id="alert-state" data-state="cancelled">Stopped<' in html
    assert 'data-testid="alert-msg-type">All clear<' in html
    assert 'data-status="cancelled">Not sent (alert stopped)<' in html
    # The machine word is nowhere a person reads it.
    assert not re.search(r"\bcancelled\b", text, re.IGNORECASE), text
    api = client.get(f"/api/v1/alerts/{alert_id}", headers=auth("auditor")).get_json()
    assert (api["state"], api["msg_type"]) == ("cancelled", "Cancel")
    assert api["stats"]["channels"]["sms"]["cancelled"] == 1


def test_every_machine_value_has_words():
    from notifier import alerts, deliveries
    from notifier.channel_state import ALERT_CHANNELS
    assert set(labels.ALERT_STATES) == set(alerts.STATES)
    assert set(labels.DELIVERY_STATUSES) == set(deliveries.STATUSES)
    assert set(labels.CHANNELS) >= set(ALERT_CHANNELS)
    for table in (labels.ALERT_STATES, labels.DELIVERY_STATUSES, labels.MSG_TYPES):
        assert len(set(table.values())) == len(table)  # one word, one meaning
    # The three "cancelled"s of issue 11 read as three different things.
    assert len({labels.ALERT_STATES["cancelled"], labels.DELIVERY_STATUSES["cancelled"],
                labels.MSG_TYPES["Cancel"]}) == 3


def test_a_sandboxed_channel_says_simulated_and_why(env, user):
    sandboxed = Settings.from_env({**env, "SANDBOX": "1"})
    alert_id = add_deliveries(sandboxed, {"state": "sent"},
                              {"status": "delivered", "provider_id": "SB" + "0" * 32},
                              {"status": "failed", "error_code": "x"})
    browser = signed_in_on(sandboxed, user)
    html = browser.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="mode-mark-sms">(simulated)<' in html
    note = re.search(r'data-testid="mode-note-sms" data-mode="sandbox">(.*?)</li>', html, re.S)
    assert note and "nobody receives" in note.group(1) and "SANDBOX=1" in note.group(1)
    assert 'data-status="delivered">Delivered (simulated)<' in html
    assert 'data-status="failed">Failed<' in html  # reached nobody anyway: no mark
    assert "Residents it would have reached (simulated)" in html
    live = browser.get(f"/alerts/{alert_id}/stats.json").get_json()
    assert live["channel_modes"]["sms"]["mode"] == "sandbox"
    assert "SANDBOX=1" in live["channel_modes"]["sms"]["reason"]


def test_a_live_channel_is_not_marked_but_a_message_the_sandbox_took_still_is(env, user):
    live_settings = Settings.from_env({**env, **TWILIO})
    alert_id = add_deliveries(live_settings, {"state": "sent"},
                              {"status": "delivered", "provider_id": "SM" + "a" * 32},
                              {"status": "delivered", "provider_id": "SB" + "b" * 32})
    browser = signed_in_on(live_settings, user)
    html = browser.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="mode-mark-sms"' not in html and 'data-testid="mode-note"' not in html
    assert html.count('data-status="delivered">Delivered<') == 1
    assert html.count('data-status="delivered">Delivered (simulated)<') == 1
    assert "Residents reached" in html
    assert browser.get(f"/alerts/{alert_id}/stats.json").get_json()["channel_modes"] == {
        "sms": {"mode": "live", "reason": None}}


def test_a_channel_without_credentials_records_and_the_page_says_so(signed_in, settings):
    # No SANDBOX and no Twilio: the channel falls back to the sandbox, with the reason.
    alert_id = add_deliveries(settings, {"state": "sending"}, {"status": "pending", "sent_at": None})
    html = signed_in("auditor").get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "TWILIO_ACCOUNT_SID" in html and 'data-testid="mode-mark-sms"' in html
    assert 'data-status="pending">Queued (simulated)<' in html


@pytest.mark.parametrize("state, rows, final", [
    ("sending", [{"status": "delivered"}], False),
    ("sent", [{"status": "delivered"}, {"status": "failed"}], True),
    ("sent", [{"status": "delivered"}, {"status": "sent"}], False),  # a receipt may still come
    ("cancelled", [{"status": "cancelled"}, {"status": "retry_wait"}], False),
    ("cancelled", [{"status": "cancelled"}, {"status": "delivered"}], True),
])
def test_stats_json_says_when_the_numbers_are_final(signed_in, settings, state, rows, final):
    alert_id = add_deliveries(settings, {"state": state}, *rows)
    live = signed_in("auditor").get(f"/alerts/{alert_id}/stats.json").get_json()
    assert live["final"] is final
    assert live["state"] == state and live["state_label"] == labels.ALERT_STATES[state]


def test_stats_json_carries_the_servers_time_in_the_agencys_zone(env, user):
    settings = Settings.from_env({**env, "TIMEZONE": "America/New_York"})
    alert_id = add_deliveries(settings, {"state": "sending"}, {"status": "sent"})
    browser = signed_in_on(settings, user)
    live = browser.get(f"/alerts/{alert_id}/stats.json").get_json()
    assert re.fullmatch(r"\d\d:\d\d:\d\d E[SD]T", live["clock"]), live["clock"]
    assert live["as_of"].endswith("+00:00")
    html = browser.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert re.search(r'data-testid="live-status">Numbers as of \d\d:\d\d:\d\d E[SD]T\.<', html)
    assert "updated every 2 seconds" not in html


def test_a_stale_signed_out_poll_gets_401_not_the_sign_in_page(client, settings):
    alert_id = add_deliveries(settings, {"state": "sending"})
    response = client.get(f"/alerts/{alert_id}/stats.json")
    assert response.status_code == 401  # live.js tells "signed out" from "server gone" by it


def test_the_deliveries_table_agrees_with_the_counts(signed_in, settings):
    alert_id = add_deliveries(settings, {"state": "sent"}, {"status": "delivered"},
                              {"status": "delivered"}, {"status": "failed"})
    browser = signed_in("auditor")
    html = browser.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="deliveries-total">3 deliveries<' in html
    assert 'data-testid="deliveries-empty"' not in html
    filtered = browser.get(f"/alerts/{alert_id}?status=failed").get_data(as_text=True)
    assert 'data-testid="deliveries-total">1 delivery<' in filtered
    none = browser.get(f"/alerts/{alert_id}?status=skipped").get_data(as_text=True)
    assert "No deliveries match these filters." in none and "None yet" not in none


def test_an_alert_still_choosing_residents_says_so_instead_of_none_yet(signed_in, settings):
    alert_id = add_deliveries(settings, {"state": "sending"})
    html = signed_in("auditor").get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="deliveries-total">0 deliveries<' in html
    assert "the residents to reach are still being chosen" in html and "None yet" not in html
    # The counts it was rendered with, for live.js to tell when the table is out of date.
    assert 'data-counts="{}"' in html


def test_the_words_are_translated(signed_in, settings):
    alert_id = add_deliveries(settings, {"state": "cancelled", "msg_type": "Cancel"},
                              {"status": "cancelled", "sent_at": None})
    html = signed_in("auditor").get(f"/alerts/{alert_id}?lang=es").get_data(as_text=True)
    assert 'data-state="cancelled">Detenida<' in html
    assert 'data-status="cancelled">No enviado (alerta detenida) (simulado)<' not in html
    assert 'data-status="cancelled">No enviado (alerta detenida)<' in html
    assert 'data-testid="alert-msg-type">Fin de la alerta<' in html
