"""Twilio status callbacks: signed ones move deliveries forward, never back; forged ones do nothing.

Each signed callback goes the whole way: the webhook queues it in the real Redis, then the
applier (workers.callback_apply.drain, as a burst worker runs it) applies it to the database.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_ui import create_app
from notifier import subscriptions
from notifier.db import session_scope
from notifier.models import Delivery, OptOut
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber
from tests.support.twilio_signing import sign, signed_post
from workers.callback_apply import drain

PATH = "/webhooks/twilio/status"


@pytest.fixture
def twilio_app(twilio_settings):
    return create_app(twilio_settings)


@pytest.fixture
def post_status(twilio_app, twilio_settings):
    """post_status(params, query="", signed=True) → response of a (signed) status callback."""
    client = twilio_app.test_client()

    def post(params: dict, query: str = "", signed: bool = True, signature: str | None = None):
        path = PATH + (f"?{query}" if query else "")
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = sign(twilio_settings.public_url + path, params,
                                                 twilio_settings.twilio_auth_token)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        response = client.post(path, data=params, headers=headers)
        drain(twilio_settings)
        return response
    return post


@pytest.fixture
def sent_sms(twilio_settings):
    """A delivery handed to Twilio as SM123; returns its id."""
    with session_scope(twilio_settings.database_url) as session:
        alert = make_alert(session)
        sub = make_subscriber(session)
        return make_delivery(session, alert, sub, provider_id="SM123").id


def delivery(settings, delivery_id: int) -> Delivery:
    with session_scope(settings.database_url) as session:
        row = session.get(Delivery, delivery_id)
        session.expunge(row)
        return row


def test_it_marks_a_signed_delivered_callback_delivered(post_status, sent_sms, twilio_settings):
    response = post_status({"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.status_code == 200
    row = delivery(twilio_settings, sent_sms)
    assert row.status == "delivered"
    assert row.delivered_at is not None


def test_it_finds_the_delivery_by_the_d_parameter_and_fills_in_the_sid(
        post_status, twilio_settings):
    with session_scope(twilio_settings.database_url) as session:
        row_id = make_delivery(session, make_alert(session), make_subscriber(session),
                               status="sending", provider_id=None, sent_at=None).id
    response = post_status({"MessageSid": "SM999", "MessageStatus": "sent"}, query=f"d={row_id}")
    assert response.status_code == 200
    row = delivery(twilio_settings, row_id)
    assert (row.status, row.provider_id) == ("sent", "SM999")
    assert row.sent_at is not None


def test_it_ignores_a_callback_for_an_older_attempt_of_the_same_delivery(
        post_status, sent_sms, twilio_settings):
    post_status({"MessageSid": "SM-old", "MessageStatus": "failed", "ErrorCode": "30003"},
                query=f"d={sent_sms}")
    row = delivery(twilio_settings, sent_sms)
    assert (row.status, row.error_code) == ("sent", None)


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_it_refuses_unsigned_or_forged_callbacks_and_changes_nothing(
        post_status, sent_sms, twilio_settings, signature):
    response = post_status({"MessageSid": "SM123", "MessageStatus": "delivered"}, signed=False,
                           signature=signature)
    assert response.status_code == 403
    assert response.is_json and "error" in response.get_json()
    assert delivery(twilio_settings, sent_sms).status == "sent"


def test_it_refuses_a_callback_signed_for_another_url(twilio_app, twilio_settings, sent_sms):
    params = {"MessageSid": "SM123", "MessageStatus": "delivered"}
    # Signed for the URL the proxy forwarded to, not the public one Twilio was given.
    forged = sign("http://localhost" + PATH, params, twilio_settings.twilio_auth_token)
    response = twilio_app.test_client().post(PATH, data=params,
                                             headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    assert delivery(twilio_settings, sent_sms).status == "sent"


def test_it_refuses_a_callback_whose_parameters_were_changed(post_status, sent_sms, twilio_settings):
    good = sign(twilio_settings.public_url + PATH, {"MessageSid": "SM123", "MessageStatus": "sent"},
                twilio_settings.twilio_auth_token)
    response = post_status({"MessageSid": "SM123", "MessageStatus": "delivered"}, signed=False,
                           signature=good)
    assert response.status_code == 403
    assert delivery(twilio_settings, sent_sms).status == "sent"


def test_it_refuses_every_callback_when_no_auth_token_is_configured(settings, sent_sms):
    # `settings` has no Twilio credentials: nothing can be verified, so nothing is accepted.
    params = {"MessageSid": "SM123", "MessageStatus": "delivered"}
    response = create_app(settings).test_client().post(
        PATH, data=params, headers={"X-Twilio-Signature": sign(settings.public_url + PATH, params, "x")})
    assert response.status_code == 403
    assert delivery(settings, sent_sms).status == "sent"


def test_it_keeps_delivered_when_sent_arrives_late(post_status, sent_sms, twilio_settings):
    post_status({"MessageSid": "SM123", "MessageStatus": "delivered"})
    before = delivery(twilio_settings, sent_sms)
    response = post_status({"MessageSid": "SM123", "MessageStatus": "sent"})
    assert response.status_code == 200
    after = delivery(twilio_settings, sent_sms)
    assert after.status == "delivered"
    assert after.delivered_at == before.delivered_at


def test_a_duplicate_callback_changes_nothing(post_status, sent_sms, twilio_settings):
    post_status({"MessageSid": "SM123", "MessageStatus": "undelivered", "ErrorCode": "30005"})
    first = delivery(twilio_settings, sent_sms)
    post_status({"MessageSid": "SM123", "MessageStatus": "undelivered", "ErrorCode": "30005"})
    second = delivery(twilio_settings, sent_sms)
    assert (first.status, first.error_code) == ("undelivered", "30005")
    assert second.updated_at == first.updated_at


@pytest.mark.parametrize("twilio_status, ours", [
    ("queued", "sent"), ("sending", "sent"), ("sent", "sent"), ("delivered", "delivered"),
    ("read", "delivered"), ("undelivered", "undelivered"), ("failed", "failed"),
])
def test_it_maps_message_statuses(post_status, sent_sms, twilio_settings, twilio_status, ours):
    post_status({"MessageSid": "SM123", "MessageStatus": twilio_status})
    assert delivery(twilio_settings, sent_sms).status == ours


@pytest.mark.parametrize("call_status, ours", [
    ("ringing", "sent"), ("completed", "delivered"), ("busy", "failed"),
    ("no-answer", "failed"), ("failed", "failed"), ("canceled", "failed"),
])
def test_it_maps_call_statuses(post_status, twilio_settings, call_status, ours):
    with session_scope(twilio_settings.database_url) as session:
        # Its last try: busy/no-answer on an earlier try dials again (tests/admin_ui/test_voice.py).
        row_id = make_delivery(session, make_alert(session), make_subscriber(session),
                               channel="voice", provider_id="CA123",
                               attempts=1 + twilio_settings.voice_retries).id
    post_status({"CallSid": "CA123", "CallStatus": call_status})
    assert delivery(twilio_settings, row_id).status == ours


def test_it_stores_the_error_code_of_a_failure(post_status, sent_sms, twilio_settings):
    post_status({"MessageSid": "SM123", "MessageStatus": "failed", "ErrorCode": "30006"})
    row = delivery(twilio_settings, sent_sms)
    assert (row.status, row.error_code) == ("failed", "30006")


def test_error_21610_opts_the_resident_out_of_sms(post_status, sent_sms, twilio_settings):
    post_status({"MessageSid": "SM123", "MessageStatus": "failed", "ErrorCode": "21610"})
    with session_scope(twilio_settings.database_url) as session:
        opt_outs = session.execute(select(OptOut.address, OptOut.channel, OptOut.source)).all()
    assert [tuple(r) for r in opt_outs] == [("+16175550100", "sms", "carrier")]


def test_a_replayed_21610_does_not_opt_out_a_resident_who_texted_start_since(
        post_status, sent_sms, twilio_app, twilio_settings):
    callback = {"MessageSid": "SM123", "MessageStatus": "failed", "ErrorCode": "21610"}
    post_status(callback)
    assert opted_out_numbers(twilio_settings) == ["+16175550100"]
    start = {"MessageSid": "SMstart", "AccountSid": twilio_settings.twilio_account_sid,
             "From": "+16175550100", "To": twilio_settings.twilio_from_number, "Body": "START"}
    assert signed_post(twilio_app.test_client(), "/webhooks/twilio/sms", start,
                       twilio_settings).status_code == 200
    assert opted_out_numbers(twilio_settings) == []
    response = post_status(callback)  # the same signed request, replayed
    assert response.status_code == 200
    assert opted_out_numbers(twilio_settings) == []
    assert (delivery(twilio_settings, sent_sms).status,
            delivery(twilio_settings, sent_sms).error_code) == ("failed", "21610")


def test_a_21610_about_a_message_sent_after_the_opt_in_opts_out_again(
        post_status, twilio_settings):
    with session_scope(twilio_settings.database_url) as session:
        sub = make_subscriber(session)
        subscriptions.opt_in(session, sub.phone, "sms", "keyword", "START", NOW)
        row_id = make_delivery(session, make_alert(session), sub, provider_id="SM777",
                               sent_at=NOW + timedelta(minutes=1)).id
    post_status({"MessageSid": "SM777", "MessageStatus": "failed", "ErrorCode": "21610"})
    assert opted_out_numbers(twilio_settings) == ["+16175550100"]
    assert delivery(twilio_settings, row_id).error_code == "21610"


def opted_out_numbers(settings) -> list[str]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(OptOut.address).where(OptOut.channel == "sms")))


def test_an_unknown_sid_gets_200_and_records_nothing(post_status, sent_sms, twilio_settings):
    response = post_status({"MessageSid": "SMunknown", "MessageStatus": "delivered"})
    assert response.status_code == 200
    assert delivery(twilio_settings, sent_sms).status == "sent"
    response = post_status({"MessageSid": "SMunknown", "MessageStatus": "delivered"},
                           query="d=987654")
    assert response.status_code == 200


def test_it_answers_with_empty_twiml(post_status, sent_sms):
    response = post_status({"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.mimetype == "text/xml"
    assert b"<Response/>" in response.data
