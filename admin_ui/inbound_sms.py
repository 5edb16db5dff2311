"""Inbound SMS from residents: `/webhooks/twilio/sms` (keywords, replies in TwiML)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("inbound_sms", __name__, url_prefix="/webhooks/twilio")
