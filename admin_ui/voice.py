"""Voice calls: the TwiML a call plays, `/webhooks/twilio/voice?d=<token>`, and key presses.

Twilio fetches this when the call is answered (with AnsweredBy, from answering-machine
detection) and again with `Digits` after each key press: 1 confirms, 2 repeats the message.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from admin_ui import db, get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhooks import record_answered_by
from notifier import deliveries, tokens
from notifier.models import Alert, Delivery
from notifier.render_voice import Spoken, VoiceScript, render_voice
from notifier.text_rules import xml_safe

bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio")

GATHER_TIMEOUT = 8  # seconds to wait for a key after the prompt
CONFIRM, REPEAT = "1", "2"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _say(target, spoken: Spoken) -> None:
    # ElementTree writes control characters as they are: Twilio would refuse the whole TwiML.
    target.say(xml_safe(spoken.text), language=spoken.language, voice=spoken.voice)


def _message_and_prompt(response: VoiceResponse, script: VoiceScript, action: str,
                        intro: bool) -> None:
    """Intro (first time only), the message twice, then "press 1 … press 2" in a Gather."""
    if intro:
        _say(response, script.intro)
    _say(response, script.message)
    response.pause(length=1)
    _say(response, script.message)
    gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT)
    _say(gather, script.prompt)
    response.append(gather)


def _is_machine(answered_by: str) -> bool:
    return answered_by.startswith("machine") or answered_by == "fax"


@bp.post("/voice")
@twilio_signed(get_settings)
def voice():
    """The TwiML for delivery `d` (a signed token); Digits=1 acknowledges, 2 repeats."""
    settings = get_settings()
    token = request.args.get("d", "")
    response = VoiceResponse()
    delivery_id = tokens.read_token(settings.secret_key, tokens.VOICE, token)
    session = db()
    delivery = session.get(Delivery, delivery_id) if delivery_id is not None else None
    alert = session.get(Alert, delivery.alert_id) if delivery is not None else None
    if alert is None or alert.state == "cancelled" or delivery.channel != "voice":
        # Forged or expired token, erased row, or an alert withdrawn since the call was placed.
        response.hangup()
        return _twiml(response)

    form = request.form
    answered_by = (form.get("AnsweredBy") or "").strip()
    record_answered_by(session, delivery.id, answered_by)
    script = render_voice(alert, delivery.language, settings)
    action = f"{settings.public_url}/webhooks/twilio/voice?d={token}"
    digits = (form.get("Digits") or "").strip()

    if digits == CONFIRM:
        deliveries.acknowledge(session, delivery.id, datetime.now(timezone.utc))
        _say(response, script.thanks)
        response.hangup()
    elif digits == REPEAT:
        _message_and_prompt(response, script, action, intro=False)
    elif digits:
        # Another key: ask again rather than hang up on someone fumbling for the keypad.
        gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT)
        _say(gather, script.prompt)
        response.append(gather)
    elif answered_by == "fax":
        response.hangup()
    elif _is_machine(answered_by):
        # DetectMessageEnd answers after the beep: leave the message; nobody can press 1.
        _say(response, script.intro)
        _say(response, script.message)
        response.pause(length=1)
        _say(response, script.message)
        response.hangup()
    else:
        _message_and_prompt(response, script, action, intro=True)
    return _twiml(response)
