"""The voice webhook: signed TwiML in the resident's language, key presses, answering machines,
and what call status callbacks do (delivered, dialled again, failed)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from rq import Queue
from rq.registry import ScheduledJobRegistry

from admin_ui import create_app
from notifier import tokens
from notifier.db import session_scope
from notifier.models import Delivery
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.support.twilio_signing import signed_post
from workers.callback_apply import drain
from workers.guard import TocsinJob
from workers.queues import SERIALIZER, redis_connection


TEXTS = {"en": "Flood warning for the river district.",
         "es": "Aviso de inundación en el distrito del río."}


@pytest.fixture
def voice_settings(twilio_env):
    from notifier.config import Settings
    return Settings.from_env({**twilio_env, "AGENCY_NAME": "Springfield OEM"})


@pytest.fixture
def client(voice_settings):
    return create_app(voice_settings).test_client()


@pytest.fixture
def call(voice_settings):
    """A voice delivery to a Spanish speaker, handed to Twilio as CA123; returns (id, path)."""
    with session_scope(voice_settings.database_url) as session:
        alert = make_alert(session, messages=TEXTS, channels=["voice"])
        sub = make_subscriber(session, language="es", channels=["voice"])
        row = make_delivery(session, alert, sub, channel="voice", language="es",
                            provider_id="CA123")
        delivery_id = row.id
    token = tokens.make_token(voice_settings.secret_key, tokens.VOICE, delivery_id)
    return delivery_id, f"/webhooks/twilio/voice?d={token}"


def twiml(response) -> etree._Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return etree.fromstring(response.data)


def delivery(settings, delivery_id) -> Delivery:
    with session_scope(settings.database_url) as session:
        row = session.get(Delivery, delivery_id)
        session.expunge(row)
        return row


def test_an_answered_call_hears_the_intro_then_the_message_twice_then_a_prompt(
        client, call, voice_settings):
    delivery_id, path = call
    root = twiml(signed_post(client, path, {"CallSid": "CA123", "AnsweredBy": "human"},
                             voice_settings))

    says = root.findall("Say")
    assert [s.get("language") for s in says] == ["es-US"] * 3
    assert {s.get("voice") for s in says} == {"Polly.Lupe"}
    assert "Springfield OEM" in says[0].text and "emergencia" in says[0].text
    assert [s.text for s in says[1:]] == [TEXTS["es"]] * 2
    [gather] = root.findall("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == voice_settings.public_url + path
    assert gather.get("method") == "POST"
    [prompt] = gather.findall("Say")
    assert "oprima 1" in prompt.text and prompt.get("language") == "es-US"
    assert delivery(voice_settings, delivery_id).answered_by == "human"


def test_pressing_1_acknowledges_and_says_thanks(client, call, voice_settings):
    delivery_id, path = call
    root = twiml(signed_post(client, path, {"CallSid": "CA123", "Digits": "1"}, voice_settings))

    assert "Gracias" in root.find("Say").text
    assert root.find("Hangup") is not None
    assert delivery(voice_settings, delivery_id).acknowledged_at is not None


def test_pressing_2_repeats_the_message_without_the_intro(client, call, voice_settings):
    delivery_id, path = call
    root = twiml(signed_post(client, path, {"CallSid": "CA123", "Digits": "2"}, voice_settings))

    assert [s.text for s in root.findall("Say")] == [TEXTS["es"]] * 2
    assert root.find("Gather").get("numDigits") == "1"
    assert delivery(voice_settings, delivery_id).acknowledged_at is None


def test_an_answering_machine_gets_the_message_after_the_beep_and_no_prompt(
        client, call, voice_settings):
    delivery_id, path = call
    root = twiml(signed_post(client, path, {"CallSid": "CA123",
                                            "AnsweredBy": "machine_end_beep"}, voice_settings))

    assert [s.text for s in root.findall("Say")][1:] == [TEXTS["es"]] * 2
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert delivery(voice_settings, delivery_id).answered_by == "machine_end_beep"


def test_an_unsigned_or_forged_request_gets_403_and_changes_nothing(client, call, voice_settings):
    delivery_id, path = call
    unsigned = client.post(path, data={"CallSid": "CA123", "Digits": "1"})
    forged = client.post(path, data={"CallSid": "CA123", "Digits": "1"},
                         headers={"X-Twilio-Signature": "Zm9yZ2Vk"})

    assert unsigned.status_code == 403 and forged.status_code == 403
    assert delivery(voice_settings, delivery_id).acknowledged_at is None


@pytest.mark.parametrize("purpose", [tokens.UNSUBSCRIBE, "bad"])
def test_a_token_that_is_not_a_voice_token_hangs_up(client, call, voice_settings, purpose):
    delivery_id, _ = call
    token = (tokens.make_token(voice_settings.secret_key, purpose, delivery_id)
             if purpose != "bad" else "not-a-token")
    root = twiml(signed_post(client, f"/webhooks/twilio/voice?d={token}",
                             {"CallSid": "CA123", "Digits": "1"}, voice_settings))

    assert root.find("Hangup") is not None and root.find("Say") is None
    assert delivery(voice_settings, delivery_id).acknowledged_at is None


# --- status callbacks of calls ---------------------------------------------------------------
def status(client, settings, delivery_id, **params):
    """A signed call status callback, queued by the webhook and then applied."""
    response = signed_post(client, f"/webhooks/twilio/status?d={delivery_id}",
                           {"CallSid": "CA123", **params}, settings)
    drain(settings)
    return response


def test_a_completed_call_is_delivered_and_records_who_answered(client, call, voice_settings):
    delivery_id, _ = call
    status(client, voice_settings, delivery_id, CallStatus="completed", AnsweredBy="human")

    row = delivery(voice_settings, delivery_id)
    assert (row.status, row.answered_by) == ("delivered", "human")


@pytest.mark.parametrize("call_status", ["busy", "no-answer"])
def test_a_busy_or_unanswered_call_is_dialled_again_later(client, call, voice_settings,
                                                           call_status):
    delivery_id, _ = call
    before = datetime.now(timezone.utc)
    status(client, voice_settings, delivery_id, CallStatus=call_status)

    row = delivery(voice_settings, delivery_id)
    assert (row.status, row.error_code) == ("retry_wait", call_status)
    wait = row.next_attempt_at - before
    assert timedelta(seconds=295) < wait < timedelta(seconds=310)
    # A Severe alert's call (make_alert's default) is dialled again in the emergency lane.
    queue = Queue("emergency-voice", connection=redis_connection(voice_settings),
                  serializer=SERIALIZER, job_class=TocsinJob)
    [job_id] = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert queue.fetch_job(job_id).args == ("voice", [delivery_id])


def test_a_call_busy_after_its_last_try_fails(client, voice_settings):
    with session_scope(voice_settings.database_url) as session:
        row = make_delivery(session, make_alert(session), make_subscriber(session),
                            channel="voice", provider_id="CA123",
                            attempts=1 + voice_settings.voice_retries)
        delivery_id = row.id
    status(client, voice_settings, delivery_id, CallStatus="busy")

    assert delivery(voice_settings, delivery_id).status == "failed"


def test_a_late_busy_from_an_earlier_call_does_not_touch_the_new_one(client, call,
                                                                     voice_settings):
    delivery_id, _ = call
    signed_post(client, f"/webhooks/twilio/status?d={delivery_id}",
                {"CallSid": "CAolder", "CallStatus": "busy"}, voice_settings)
    drain(voice_settings)

    assert delivery(voice_settings, delivery_id).status == "sent"


def test_voice_retries_are_settings(twilio_env):
    from notifier.config import Settings
    settings = Settings.from_env({**twilio_env, "VOICE_RETRIES": "0",
                                  "VOICE_RETRY_SECONDS": "60"})

    assert (settings.voice_retries, settings.voice_retry_seconds) == (0, 60)


def test_a_stored_message_with_a_control_character_still_gives_well_formed_twiml(
        client, voice_settings):
    with session_scope(voice_settings.database_url) as session:
        alert = make_alert(session, messages={"en": "Flood\x0bwarning.\x00"}, channels=["voice"])
        sub = make_subscriber(session, language="en", channels=["voice"])
        row = make_delivery(session, alert, sub, channel="voice", provider_id="CA124")
    token = tokens.make_token(voice_settings.secret_key, tokens.VOICE, row.id)
    root = twiml(signed_post(client, f"/webhooks/twilio/voice?d={token}",
                             {"CallSid": "CA124", "AnsweredBy": "human"}, voice_settings))
    intro, headline, message = [say.text for say in root.findall("Say")[:3]]
    assert message == "Flood warning. "


@pytest.mark.slow
def test_a_press_of_1_the_locked_database_cannot_store_asks_again_and_lands_once_it_can(
        client, call, voice_settings):
    import time

    from admin_ui.webhook_store import LOCK_TIMEOUT_SECONDS
    from tests.conftest import BACKEND
    from tests.support.db_lock import database_locked

    delivery_id, path = call
    client.get("/healthz")  # warm: the first request pays the imports
    with database_locked(voice_settings.database_url) as released:
        started = time.monotonic()
        response = signed_post(client, path, {"CallSid": "CA123", "Digits": "1"}, voice_settings)
        took = time.monotonic() - started
        assert not released.is_set(), "the lock ended before the key press was tried"

    # Within Twilio's 15 s; on SQLite the call goes on and asks for the answer again, on
    # PostgreSQL (the lock keeps even reads out) it is a 503 for Twilio's fallback URL.
    assert took < LOCK_TIMEOUT_SECONDS + 1.5
    if BACKEND == "sqlite":
        root = twiml(response)
        assert root.find("Gather") is not None and root.find("Hangup") is None
    else:
        assert response.status_code == 503
    assert delivery(voice_settings, delivery_id).acknowledged_at is None

    root = twiml(signed_post(client, path, {"CallSid": "CA123", "Digits": "1"}, voice_settings))
    assert root.find("Hangup") is not None
    assert delivery(voice_settings, delivery_id).acknowledged_at is not None


def test_the_call_says_the_headline_written_for_its_language_after_the_intro(client, voice_settings):
    with session_scope(voice_settings.database_url) as session:
        alert = make_alert(session, headline="Shelter in place", channels=["voice"],
                           messages={"en": "Stay indoors.", "es": "Quédese adentro.",
                                     "fr": "Restez à l'intérieur."},
                           headlines={"es": "Refúgiese en su lugar"})
        rows = [make_delivery(session, alert, make_subscriber(session, language=tag, phone=f"+1617555020{n}",
                                                              channels=["voice"]),
                              channel="voice", language=tag, provider_id=f"CA2{n}")
                for n, tag in enumerate(("es", "fr"))]
    said = []
    for n, row in enumerate(rows):
        token = tokens.make_token(voice_settings.secret_key, tokens.VOICE, row.id)
        root = twiml(signed_post(client, f"/webhooks/twilio/voice?d={token}",
                                 {"CallSid": f"CA2{n}", "AnsweredBy": "human"}, voice_settings))
        said.append([(say.text, say.get("language")) for say in root.findall("Say")])
    assert said[0][1:3] == [("Refúgiese en su lugar", "es-US"), ("Quédese adentro.", "es-US")]
    # French has no headline of its own: the call goes from the intro to the message.
    assert said[1][1] == ("Restez à l'intérieur.", "fr-FR")
