"""/sandbox: simulated phones and mailboxes, and a simulated text run like the API's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from admin_ui import create_app
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import AuditEvent, SandboxMessage, Subscriber
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code

AT = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(sandbox_settings):
    """The sandbox exists only with SANDBOX=1 set explicitly."""
    return sandbox_settings


def simulate(client, frm, body):
    return client.post("/sandbox/inbound", data={"csrf_token": client.csrf, "from": frm, "body": body})


def test_a_simulated_join_then_stop_shows_each_reply_and_subscribes_then_opts_out(signed_in, settings):
    client = signed_in("dispatcher")
    html = simulate(client, "(617) 555-0100", "JOIN").get_data(as_text=True)
    assert 'data-testid="simulate-reply"' in html and "You are subscribed to emergency alerts" in html
    html = simulate(client, "+16175550100", "STOP").get_data(as_text=True)
    assert "unsubscribed" in html.split('data-testid="simulate-reply"')[1]
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalar(select(Subscriber.phone)) == "+16175550100"
        replies = session.scalars(select(SandboxMessage.body).order_by(SandboxMessage.id)).all()
        actions = session.scalars(select(AuditEvent.action)).all()
    assert len(replies) == 2 and "unsubscribed" in replies[1]
    assert actions.count("sandbox.inbound") == 2 and "subscriber.opt_out" in actions


def test_the_page_groups_messages_by_address_newest_first_and_filters(signed_in, settings):
    with session_scope(settings.database_url) as session:
        for i, (channel, to, body) in enumerate((("sms", "+16175550100", "body-one"),
                                                 ("email", "ana@example.org", "body-mail"),
                                                 ("sms", "+16175550100", "body-two"))):
            session.add(SandboxMessage(at=AT, channel=channel, to=to, body=body, provider_id=f"SB{i}"))
    client = signed_in("dispatcher")
    html = client.get("/sandbox").get_data(as_text=True)
    assert 'data-testid="training-banner"' in html
    assert html.count('data-testid="device"') == 2
    phone = html.split('data-address="+16175550100"')[1].split("</article>")[0]
    assert phone.index("body-two") < phone.index("body-one")
    filtered = client.get("/sandbox?channel=email").get_data(as_text=True)
    assert "body-mail" in filtered and "body-two" not in filtered
    by_address = client.get("/sandbox?to=(617) 555-0100").get_data(as_text=True)
    assert by_address.count('data-testid="sandbox-message"') == 2


def test_a_bad_number_comes_back_with_the_field_error(signed_in):
    client = signed_in("dispatcher")
    response = simulate(client, "12", "JOIN")
    assert response.status_code == 422
    assert 'data-testid="errors-from"' in response.get_data(as_text=True)


def test_auditors_may_not_use_the_sandbox_page(signed_in):
    client = signed_in("auditor")
    assert client.get("/sandbox").status_code == 403
    assert simulate(client, "+16175550100", "JOIN").status_code == 403


def test_a_post_without_csrf_token_is_refused(signed_in):
    client = signed_in("dispatcher")
    response = client.post("/sandbox/inbound", data={"from": "+16175550100", "body": "JOIN"})
    assert response.status_code == 400


@pytest.mark.parametrize("credentials", [
    {},  # none at all: every channel records, yet SANDBOX=1 is not set
    {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "x",
     "TWILIO_FROM_NUMBER": "+15005550006", "SMTP_HOST": "smtp.example.org",
     "MAIL_FROM": "alerts@example.org"},  # real Twilio and SMTP, SOCIAL_URLS empty
])
def test_it_is_404_and_out_of_the_navigation_without_sandbox_set(env, user, credentials):
    live = Settings.from_env({**env, **credentials})
    client = page_client(create_app(live))
    assert sign_in_with_code(client, user("dana", "dispatcher")).status_code == 302
    assert client.get("/sandbox").status_code == 404
    html = client.get("/alerts").get_data(as_text=True)
    assert 'data-testid="nav-sandbox"' not in html
    response = client.post("/sandbox/inbound", data={"csrf_token": csrf_token(html),
                                                     "from": "+16175550100", "body": "JOIN"})
    assert response.status_code == 404
