"""CSRF protection for the session pages; programs (API, webhooks, email links) are exempt."""
from __future__ import annotations

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

# Their callers sign requests otherwise (bearer tokens, Twilio signatures, signed links) and
# never hold a session cookie, so a forged cross-site POST gains nothing there.
EXEMPT_PREFIXES = ("/api/", "/webhooks/", "/email/", "/healthz")
EXEMPT_BLUEPRINTS = frozenset({"api", "webhooks", "inbound_sms", "voice", "email_links", "health"})

csrf = CSRFProtect()


def init_csrf(app: Flask) -> None:
    """Check the CSRF token of every unsafe request outside EXEMPT_PREFIXES."""
    # Checked by our own hook below, so that exemption goes by path and covers blueprints
    # added later without anyone remembering to exempt them.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # a long night shift
    csrf.init_app(app)

    @app.before_request
    def _protect():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if request.path.startswith(EXEMPT_PREFIXES) or request.blueprint in EXEMPT_BLUEPRINTS:
            return None
        csrf.protect()
        return None
