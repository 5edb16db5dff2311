"""EmailChannel against a real aiosmtpd server: pooled connections, 5xx/4xx, STARTTLS and AUTH."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from channels.base import ChannelError, OutboundMessage, Receipt
from channels.email import EmailChannel
from notifier.config import Settings
from notifier.render_email import render_email
from tests.support.services import free_port
from tests.support.smtp_server import SmtpServer, self_signed_certificate

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
ALERT = SimpleNamespace(messages={"en": "Chemical leak near Main St. Stay indoors.",
                                  "es": "Fuga química cerca de Main St. Quédese adentro."},
                        headline="Shelter in place", severity="Severe", status="Actual",
                        instruction=None, confirm=False, sent_at=NOW)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def settings_for(env, server, **extra) -> Settings:
    return Settings.from_env({**env, **server.env(**extra)})


def message(settings, i: int, to: str | None = None, language: str = "en") -> OutboundMessage:
    content = render_email(ALERT, language, settings, i, NOW)
    return OutboundMessage(delivery_id=i, to=to or f"r{i}@example.org", body=content.text,
                           language=content.language, subject=content.subject,
                           html=content.html, headers=content.headers)


def test_it_sends_one_multipart_message_per_resident_and_names_it_by_message_id(env, smtp):
    settings = settings_for(env, smtp)
    sent = message(settings, 7, to="ana@example.org", language="es")

    [receipt] = EmailChannel(settings).send_batch([sent])

    assert isinstance(receipt, Receipt) and receipt.delivery_id == 7
    [received] = smtp.messages
    assert received.mail_from == "alerts@tocsin.example.org"
    assert received.rcpt_tos == ["ana@example.org"]
    msg = received.message
    assert receipt.provider_id == msg["Message-ID"].strip("<>")
    assert msg["To"] == "ana@example.org"
    assert msg["From"].addresses[0].display_name == "Tocsin Alerts"
    assert msg["Content-Language"] == "es"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Quédese adentro" in msg.get_body(("plain",)).get_content()
    assert "Quédese adentro" in msg.get_body(("html",)).get_content()


def test_it_reuses_a_few_connections_for_a_whole_batch(env, smtp):
    settings = settings_for(env, smtp, EMAIL_CONCURRENCY="4")

    outcomes = EmailChannel(settings).send_batch([message(settings, i) for i in range(60)])

    assert all(isinstance(o, Receipt) for o in outcomes)
    assert [o.delivery_id for o in outcomes] == list(range(60))
    assert len(smtp.messages) == 60
    assert 1 <= smtp.connections <= 4


def test_it_fails_a_5xx_refusal_with_the_code_and_retries_a_4xx_one(env, smtp):
    settings = settings_for(env, smtp)
    smtp.refuse("gone@example.org", 550)
    smtp.refuse("full@example.org", 451, "4.2.2 Mailbox full, try later")

    gone, full, fine = EmailChannel(settings, concurrency=1).send_batch([
        message(settings, 1, "gone@example.org"), message(settings, 2, "full@example.org"),
        message(settings, 3, "fine@example.org")])

    assert isinstance(gone, ChannelError) and gone.permanent and gone.code == "smtp-550"
    assert isinstance(full, ChannelError) and not full.permanent and full.code == "smtp-451"
    assert not full.outage  # a full mailbox: the schedule's tries, then failed
    assert "Mailbox full" in full.message
    assert isinstance(fine, Receipt)  # the same connection carries on after a refusal
    assert [m.rcpt_tos for m in smtp.messages] == [["fine@example.org"]]


def test_a_server_that_is_down_makes_every_message_temporary_and_fast(env):
    settings = Settings.from_env({**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()),
                                  "MAIL_FROM": "alerts@tocsin.example.org"})
    started = time.monotonic()

    outcomes = EmailChannel(settings).send_batch([message(settings, i) for i in range(200)])

    assert all(isinstance(o, ChannelError) and not o.permanent and o.outage for o in outcomes)
    assert {o.code for o in outcomes} == {"connection"}
    assert time.monotonic() - started < 5


def test_each_message_to_a_down_server_gets_an_outcome_of_its_own(env):
    settings = Settings.from_env({**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()),
                                  "MAIL_FROM": "alerts@tocsin.example.org"})
    seen = []

    outcomes = EmailChannel(settings, concurrency=3).send_batch(
        [message(settings, i) for i in range(30)], on_outcome=seen.append)

    # One shared error object would carry only the last message's id when it is recorded.
    assert len({id(o) for o in outcomes}) == 30
    assert sorted(o.delivery_id for o in seen) == list(range(30))


def test_it_speaks_starttls_and_logs_in_when_a_username_is_set(env, tmp_path):
    cert_key = self_signed_certificate(tmp_path)
    with SmtpServer(starttls=cert_key, login=("tocsin", "s3cret")) as server:
        settings = Settings.from_env({**env, **server.env(
            SMTP_SECURITY="starttls", SMTP_USERNAME="tocsin", SMTP_PASSWORD="s3cret")})
        channel = EmailChannel(settings, tls_context=server.client_tls_context())

        [receipt] = channel.send_batch([message(settings, 1)])

        assert isinstance(receipt, Receipt)
        assert len(server.messages) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_wrong_smtp_password_is_retried_not_failed(env, tmp_path):
    with SmtpServer(login=("tocsin", "s3cret")) as server:
        settings = Settings.from_env({**env, **server.env(
            SMTP_USERNAME="tocsin", SMTP_PASSWORD="wrong")})

        [outcome] = EmailChannel(settings).send_batch([message(settings, 1)])

        assert isinstance(outcome, ChannelError)
        assert not outcome.permanent and outcome.code == "smtp-auth"
        assert server.messages == []
