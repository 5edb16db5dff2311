"""Voice calls: the TwiML a call plays, `/webhooks/twilio/voice?d=<token>`, and key presses."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio")
