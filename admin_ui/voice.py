"""Voice calls: the TwiML a call plays, `/webhooks/twilio/voice?d=<token>`, and key presses.

Twilio fetches this when the call is answered (with AnsweredBy, from answering-machine
detection) and again with `Digits` after each key press: 1 confirms, 2 repeats the message.
A resident is on the line: a locked database never keeps the message from them. Writes wait a
bounded time; an AnsweredBy that cannot be stored is let go, and a "1" that cannot be stored
asks the resident to press 1 again rather than thank them for an answer Tocsin lost.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from admin_ui import db, get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhook_store import LOCK_TIMEOUT_SECONDS, STORE_ERRORS, retry_later
from notifier import deliveries, tokens
from notifier.db import session_scope
from notifier.models import Alert, Delivery
from notifier.render_voice import Spoken, VoiceScript, render_voice
from notifier.text_rules import xml_safe

bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio")
log = logging.getLogger(__name__)

GATHER_TIMEOUT = 8  # seconds to wait for a key after the prompt
CONFIRM, REPEAT = "1", "2"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _say(target, spoken: Spoken) -> None:
    # ElementTree writes control characters as they are: Twilio would refuse the whole TwiML.
    target.say(xml_safe(spoken.text), language=spoken.language, voice=spoken.voice)


def _message(response: VoiceResponse, script: VoiceScript) -> None:
    """The message once, with its "automatic translation" note when a machine translated it."""
    for spoken in script.said_message():
        _say(response, spoken)


def _message_and_prompt(response: VoiceResponse, script: VoiceScript, action: str,
                        intro: bool) -> None:
    """Intro (first time only), the message twice, then "press 1 … press 2" in a Gather."""
    if intro:
        for spoken in script.opening():
            _say(response, spoken)
    _message(response, script)
    response.pause(length=1)
    _message(response, script)
    _prompt(response, script, action)


def _is_machine(answered_by: str) -> bool:
    return answered_by.startswith("machine") or answered_by == "fax"


@bp.post("/voice")
@twilio_signed(get_settings)
def voice():
    """The TwiML for delivery `d` (a signed token); Digits=1 acknowledges, 2 repeats."""
    bounded = {"lock_timeout": LOCK_TIMEOUT_SECONDS}
    session = db()
    try:
        try:
            session.connection(execution_options=bounded)  # SQLite: takes the write lock
        except STORE_ERRORS:
            session.rollback()
            # Locked for writing, maybe not for reading (SQLite's WAL): play the message.
            with session_scope(get_settings().database_url, readonly=True) as reader:
                reader.connection(execution_options=bounded)
                return _answer(reader, writable=False)
        return _answer(session, writable=True)
    except STORE_ERRORS as exc:  # not even the delivery could be read: Twilio's fallback URL
        session.rollback()
        log.warning("voice webhook could not read its delivery: %s", type(exc).__name__)
        return retry_later()


def _answer(session, writable: bool) -> Response:
    settings = get_settings()
    token = request.args.get("d", "")
    response = VoiceResponse()
    delivery_id = tokens.read_token(settings.secret_key, tokens.VOICE, token)
    delivery = session.get(Delivery, delivery_id) if delivery_id is not None else None
    alert = session.get(Alert, delivery.alert_id) if delivery is not None else None
    if alert is None or alert.state == "cancelled" or delivery.channel != "voice":
        # Forged or expired token, erased row, or an alert withdrawn since the call was placed.
        response.hangup()
        return _twiml(response)

    form = request.form
    answered_by = (form.get("AnsweredBy") or "").strip()
    script = render_voice(alert, delivery.language, settings)
    action = f"{settings.public_url}/webhooks/twilio/voice?d={token}"
    digits = (form.get("Digits") or "").strip()
    # An AnsweredBy that could not be stored is let go: the call goes on all the same.
    stored = writable and _stored(session, delivery.id, answered_by, digits == CONFIRM)
    if not stored and digits == CONFIRM:
        _prompt(response, script, action)  # the answer is lost: ask for it again
        return _twiml(response)

    if digits == CONFIRM:
        _say(response, script.thanks)
        response.hangup()
    elif digits == REPEAT:
        _message_and_prompt(response, script, action, intro=False)
    elif digits:
        # Another key: ask again rather than hang up on someone fumbling for the keypad.
        _prompt(response, script, action)
    elif answered_by == "fax":
        response.hangup()
    elif _is_machine(answered_by):
        # DetectMessageEnd answers after the beep: leave the message; nobody can press 1.
        for spoken in script.opening():
            _say(response, spoken)
        _message(response, script)
        response.pause(length=1)
        _message(response, script)
        response.hangup()
    else:
        _message_and_prompt(response, script, action, intro=True)
    return _twiml(response)


def _stored(session, delivery_id: int, answered_by: str, confirmed: bool) -> bool:
    """Record AnsweredBy and an acknowledgement and commit; False when the database refused."""
    try:
        deliveries.record_answered_by(session, delivery_id, answered_by)
        if confirmed:
            deliveries.acknowledge(session, delivery_id, datetime.now(timezone.utc))
        session.commit()
        return True
    except STORE_ERRORS as exc:
        session.rollback()
        log.warning("voice webhook not stored (delivery_id=%s): %s", delivery_id,
                    type(exc).__name__)
        return False


def _prompt(response: VoiceResponse, script: VoiceScript, action: str) -> None:
    gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT)
    _say(gather, script.prompt)
    response.append(gather)
