"""Links in emails: one-click unsubscribe (RFC 8058) and "I received this" confirmations.

GET only shows a page with a button: mail scanners and link previews follow links, and must
never unsubscribe or confirm for anyone. POST acts; it needs no session or CSRF token (the
signed token is the credential, and a mail client's one-click POST carries nothing else).
"""
from __future__ import annotations

import html
from datetime import datetime, timezone

from flask import Blueprint, Response, request

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


def _page(language: str, title: str, body: str, status: int = 200) -> Response:
    """A small self-contained page: real headings and a real button, readable without CSS."""
    e = html.escape
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title>"
        "<style>body{font-family:Arial,Helvetica,sans-serif;font-size:18px;line-height:1.5;"
        "max-width:36em;margin:2em auto;padding:0 1em;color:#111;background:#fff}"
        "button{font-size:1em;padding:.6em 1.2em;color:#fff;background:#0b4f9c;border:0;"
        "border-radius:4px;cursor:pointer}button:focus{outline:3px solid #f9a825}</style>"
        f"</head><body><main><h1>{e(title)}</h1>{body}</main></body></html>\n")
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
    return _page(normalize(language), text, f"<p>{html.escape(text)}</p>", status=404)


def _form(language: str, question: str, button: str) -> str:
    # No action: the form posts back to this very URL, token included.
    return (f"<p>{html.escape(question)}</p>"
            f'<form method="post"><button type="submit">{html.escape(button)}'
            "</button></form>")


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET: a page asking to confirm. POST (RFC 8058 one-click, or that page): opt out."""
    delivery = _delivery(tokens.UNSUBSCRIBE, token)
    if delivery is None or not delivery.address:
        return _bad_link()
    language, agency = delivery.language, get_settings().agency_name
    title = gettext(language, UNSUB_TITLE)
    if request.method == "GET":
        return _page(language, title, _form(
            language, gettext(language, UNSUB_QUESTION) % {"agency": agency},
            gettext(language, UNSUB_BUTTON)))
    session = db()
    if not subscriptions.opted_out(session, [delivery.address], "email"):
        # opt_out also writes the audit event (masked address, subscriber id, source).
        subscriptions.opt_out(session, delivery.address, "email", source="email-link",
                              body=None, now=datetime.now(timezone.utc),
                              actor=f"subscriber:{delivery.subscriber_id}"
                              if delivery.subscriber_id else "email-link")
    return _page(language, title, f"<p>{html.escape(gettext(language, UNSUB_DONE))}</p>")


@bp.route("/email/ack/<token>", methods=["GET", "POST"])
def acknowledge(token: str):
    """GET: a page with an "I received this" button. POST: mark the delivery acknowledged."""
    delivery = _delivery(tokens.ACKNOWLEDGE, token)
    if delivery is None:
        return _bad_link()
    language, agency = delivery.language, get_settings().agency_name
    title = gettext(language, ACK_TITLE)
    if request.method == "GET":
        return _page(language, title, _form(
            language, gettext(language, ACK_QUESTION) % {"agency": agency},
            gettext(language, ACK_BUTTON)))
    deliveries.acknowledge(db(), delivery.id, datetime.now(timezone.utc))
    return _page(language, title, f"<p>{html.escape(gettext(language, ACK_DONE))}</p>")
