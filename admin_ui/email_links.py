"""Links in emails: one-click unsubscribe (RFC 8058) and "I received this" confirmations."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("email_links", __name__)
