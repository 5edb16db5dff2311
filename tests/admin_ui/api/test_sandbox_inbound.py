"""POST /api/v1/sandbox/inbound: a simulated text runs the real keyword logic; replies land in the outbox."""
from __future__ import annotations

import pytest

from admin_ui import create_app
from notifier.config import Settings


@pytest.fixture
def settings(sandbox_settings):
    """The sandbox exists only with SANDBOX=1 set explicitly."""
    return sandbox_settings


def inbound(client, auth, frm, body, role="dispatcher"):
    return client.post("/api/v1/sandbox/inbound", headers=auth(role), json={"from": frm, "body": body})


def outbox(client, auth):
    return client.get("/api/v1/sandbox/outbox?channel=sms", headers=auth("dispatcher")).get_json()["items"]


def test_a_simulated_join_subscribes_and_the_reply_is_in_the_outbox(client, auth):
    response = inbound(client, auth, "(617) 555-0100", "JOIN")
    assert response.status_code == 200
    reply = response.get_json()["reply"]
    assert "You are subscribed to emergency alerts" in reply
    [sent] = outbox(client, auth)
    assert (sent["to"], sent["body"], sent["channel"]) == ("+16175550100", reply, "sms")
    found = client.get("/api/v1/subscribers?q=6175550100", headers=auth("dispatcher")).get_json()
    assert found["total"] == 1 and found["items"][0]["channels"] == ["sms"]


def test_after_a_simulated_stop_nothing_is_replied_or_recorded(client, auth):
    assert "unsubscribed" in inbound(client, auth, "+16175550100", "Stop").get_json()["reply"]
    assert inbound(client, auth, "+16175550100", "HELP").get_json() == {"reply": None}
    assert len(outbox(client, auth)) == 1


def test_a_question_goes_to_the_inbox(client, auth):
    reply = inbound(client, auth, "+16175550100", "Where do I get sandbags?").get_json()["reply"]
    assert "For emergencies call 911" in reply
    inbox = client.get("/api/v1/inbox", headers=auth("auditor")).get_json()["items"]
    assert [m["body"] for m in inbox] == ["Where do I get sandbags?"]


def test_bad_input_is_422_with_the_field(client, auth):
    response = inbound(client, auth, "12", "JOIN")
    assert response.status_code == 422 and "from" in response.get_json()["errors"]
    response = inbound(client, auth, "+16175550100", None)
    assert response.status_code == 422 and "body" in response.get_json()["errors"]
    response = client.post("/api/v1/sandbox/inbound", headers=auth("dispatcher"), json=["JOIN"])
    assert response.status_code == 422


def test_only_people_who_manage_subscribers_may_simulate(client, auth):
    assert inbound(client, auth, "+16175550100", "JOIN", role="auditor").status_code == 403
    assert client.post("/api/v1/sandbox/inbound", json={}).status_code == 401


def test_it_is_404_when_sms_goes_to_twilio(twilio_settings, token):
    client = create_app(twilio_settings).test_client()
    response = client.post("/api/v1/sandbox/inbound", json={"from": "+16175550100", "body": "JOIN"},
                           headers={"Authorization": f"Bearer {token('admin')}"})
    assert response.status_code == 404 and response.is_json


def test_it_is_404_without_sandbox_even_when_sms_has_no_credentials(env, token):
    # It skips Twilio's signature: a deployment merely missing credentials must not offer it.
    client = create_app(Settings.from_env(env)).test_client()
    response = client.post("/api/v1/sandbox/inbound", json={"from": "+16175550100", "body": "JOIN"},
                           headers={"Authorization": f"Bearer {token('admin')}"})
    assert response.status_code == 404 and response.is_json
    assert client.get("/api/v1/sandbox/outbox",
                      headers={"Authorization": f"Bearer {token('admin')}"}).status_code == 404
