"""Inbound SMS from residents: `/webhooks/twilio/sms` (keywords, replies in TwiML)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from admin_ui import db, get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhook_store import stored_or_retry_later
from notifier.conversation import handle_inbound

bp = Blueprint("inbound_sms", __name__, url_prefix="/webhooks/twilio")
log = logging.getLogger(__name__)


@bp.post("/sms")
@twilio_signed(get_settings)
@stored_or_retry_later
def inbound_sms():
    """Handle a resident's text; answer with TwiML: one <Message>, or an empty <Response/>.

    A MessageSid already handled gets an empty response and changes nothing (Twilio retries).
    A text that cannot be stored gets 503, so a STOP is never answered and then forgotten.
    """
    form = request.form
    response = MessagingResponse()
    sender = (form.get("From") or "").strip()
    if sender:
        reply = handle_inbound(db(), get_settings(), sender, form.get("To"), form.get("Body"),
                               form.get("MessageSid"), datetime.now(timezone.utc))
        if reply is not None:
            response.message(reply.text)
    return Response(response.to_xml(xml_declaration=True), mimetype="text/xml")
