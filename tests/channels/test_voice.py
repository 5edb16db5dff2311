"""VoiceChannel against the Twilio stand-in, whose Calls form is checked against Twilio's OpenAPI."""
from __future__ import annotations

from channels.base import ChannelError, OutboundMessage, Receipt
from channels.voice import VoiceChannel
from notifier.config import Settings
from tests.support.twilio_openapi import form_rules

CALLBACK = "https://tocsin.example.org/webhooks/twilio/status?d=7"
TWIML = "https://tocsin.example.org/webhooks/twilio/voice?d=signed-token"


def call(i: int = 7, to: str | None = None, twiml: str | None = TWIML) -> OutboundMessage:
    return OutboundMessage(delivery_id=i, to=to or f"+1617555{i:04d}", body="spoken text",
                           language="en", status_callback=CALLBACK,
                           extra={"twiml_url": twiml} if twiml else {})


def test_it_places_a_call_that_fetches_our_twiml_and_reports_every_stage(twilio_standin,
                                                                       twilio_settings):
    [receipt] = VoiceChannel(twilio_settings).send_batch([call(to="+16175550100")])

    assert isinstance(receipt, Receipt) and receipt.delivery_id == 7
    assert receipt.provider_id.startswith("CA") and len(receipt.provider_id) == 34
    [request] = twilio_standin.requests
    assert request.path == f"/2010-04-01/Accounts/{twilio_settings.twilio_account_sid}/Calls.json"
    assert set(request.form) <= form_rules("Calls").allowed  # and the stand-in accepted it
    assert request.form["To"] == "+16175550100"
    assert request.form["From"] == twilio_settings.twilio_from_number
    assert request.form["Url"] == TWIML
    assert request.form["Method"] == "POST"
    assert request.form["StatusCallback"] == CALLBACK
    assert request.form["StatusCallbackMethod"] == "POST"
    assert request.form["MachineDetection"] == "DetectMessageEnd"
    assert "StatusCallbackEvent" in request.form


def test_it_asks_for_each_status_event(twilio_standin, twilio_settings):
    seen = []
    from aiohttp import web  # the stand-in keeps only the last value of a repeated field

    original = twilio_standin._create

    async def spy(request: web.Request, resource: str):
        form = await request.post()
        seen.append(form.getall("StatusCallbackEvent"))
        return await original(request, resource)
    twilio_standin._create = spy
    try:
        VoiceChannel(twilio_settings).send_batch([call()])
    finally:
        twilio_standin._create = original
    assert seen == [["initiated", "ringing", "answered", "completed"]]


def test_it_fails_a_number_outside_the_geo_permissions_and_retries_an_overload(
        twilio_standin, twilio_settings):
    twilio_standin.fail("+16175550001", status=400, code=21215, message="Geo permission")
    twilio_standin.fail("+16175550002", status=429, code=20429)

    refused, busy, placed = VoiceChannel(twilio_settings).send_batch([
        call(1, "+16175550001"), call(2, "+16175550002"), call(3, "+16175550003")])

    assert isinstance(refused, ChannelError) and refused.permanent and refused.code == "21215"
    assert isinstance(busy, ChannelError) and not busy.permanent
    assert isinstance(placed, Receipt)


def test_a_call_without_twiml_or_caller_id_is_refused_before_twilio(twilio_standin, twilio_env):
    [no_twiml] = VoiceChannel(Settings.from_env(twilio_env)).send_batch([call(twiml=None)])
    service_only = Settings.from_env({**twilio_env, "TWILIO_FROM_NUMBER": "",
                                      "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32})
    [no_caller_id] = VoiceChannel(service_only).send_batch([call()])

    assert no_twiml.permanent and no_twiml.code == "no-twiml"
    assert no_caller_id.permanent and no_caller_id.code == "no-caller-id"
    assert twilio_standin.requests == []
