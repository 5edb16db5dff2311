"""Links in emails: one-click unsubscribe (RFC 8058) and "I received this" confirmations.

GET only shows a page with a button: mail scanners and link previews follow links, and must
never unsubscribe or confirm for anyone. POST acts; it needs no session or CSRF token (the
signed token is the credential, and a mail client's one-click POST carries nothing else).
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, render_template, request

from admin_ui import db, get_settings
from notifier import deliveries, subscriptions, tokens
from notifier.i18n import N_, gettext, normalize
from notifier.models import Delivery

bp = Blueprint("email_links", __name__)

UNSUB_TITLE = N_("Stop email alerts")
UNSUB_QUESTION = N_("Do you want to stop receiving emergency alerts from %(agency)s by email?")
UNSUB_BUTTON = N_("Stop email alerts")
UNSUB_DONE = N_("You will no longer receive emergency alerts by email. Alerts by text message "
                "or phone call, if you signed up for them, continue.")
ACK_TITLE = N_("Confirm that you received this alert")
ACK_QUESTION = N_("Press the button to tell %(agency)s that you received this alert.")
ACK_BUTTON = N_("I received this alert")
ACK_DONE = N_("Thank you. Your confirmation has been recorded.")
BAD_LINK = N_("This link is not valid or has expired.")


def _page(language: str, title: str, text: str, button: str | None = None,
          status: int = 200) -> Response:
    """The page a link in an email opens: a question with a button, or a plain message."""
    page = render_template("email_link.html", language=language, title=title, text=text,
                           button=button)
    return Response(page, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex",
                             "Referrer-Policy": "no-referrer"})


def _delivery(purpose: str, token: str) -> Delivery | None:
    delivery_id = tokens.read_token(get_settings().secret_key, purpose, token)
    if delivery_id is None:
        return None
    delivery = db().get(Delivery, delivery_id)
    return delivery if delivery is not None and delivery.channel == "email" else None


def _bad_link() -> Response:
    language = get_settings().default_language
    text = gettext(language, BAD_LINK)
    return _page(normalize(language), text, text, status=404)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET: a page asking to confirm. POST (RFC 8058 one-click, or that page): opt out."""
    delivery = _delivery(tokens.UNSUBSCRIBE, token)
    if delivery is None or not delivery.address:
        return _bad_link()
    language, agency = delivery.language, get_settings().agency_name
    title = gettext(language, UNSUB_TITLE)
    if request.method == "GET":
        return _page(language, title, gettext(language, UNSUB_QUESTION) % {"agency": agency},
                     gettext(language, UNSUB_BUTTON))
    session = db()
    if not subscriptions.opted_out(session, [delivery.address], "email"):
        # opt_out also writes the audit event (masked address, subscriber id, source).
        subscriptions.opt_out(session, delivery.address, "email", source="email-link",
                              body=None, now=datetime.now(timezone.utc),
                              actor=f"subscriber:{delivery.subscriber_id}"
                              if delivery.subscriber_id else "email-link")
    return _page(language, title, gettext(language, UNSUB_DONE))


@bp.route("/email/ack/<token>", methods=["GET", "POST"])
def acknowledge(token: str):
    """GET: a page with an "I received this" button. POST: mark the delivery acknowledged."""
    delivery = _delivery(tokens.ACKNOWLEDGE, token)
    if delivery is None:
        return _bad_link()
    language, agency = delivery.language, get_settings().agency_name
    title = gettext(language, ACK_TITLE)
    if request.method == "GET":
        return _page(language, title, gettext(language, ACK_QUESTION) % {"agency": agency},
                     gettext(language, ACK_BUTTON))
    deliveries.acknowledge(db(), delivery.id, datetime.now(timezone.utc))
    return _page(language, title, gettext(language, ACK_DONE))
