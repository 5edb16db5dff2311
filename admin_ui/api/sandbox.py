"""Sandbox endpoints (DESIGN §8): the outbox of recorded messages, and simulated inbound texts."""
from __future__ import annotations

from flask import abort, request

from admin_ui import db, get_settings
from admin_ui.api import (READ_ALERTS, WRITE_PEOPLE, bp, choice_arg, json_body, now, page_args,
                          paged, requires, sees_full_addresses)
from notifier import sandbox
from notifier.config import CHANNELS
from notifier.masking import hide_links, mask_address
from notifier.models import SandboxMessage


@bp.get("/sandbox/outbox")
@requires(*READ_ALERTS)
def sandbox_outbox():
    """Paged sandbox messages, newest first, filtered by `channel` and `to`; 404 without SANDBOX=1."""
    settings = get_settings()
    if not settings.sandbox_explicit:
        abort(404, "the sandbox is off (SANDBOX=1 is not set)")
    page, per_page = page_args()
    channel = choice_arg("channel", CHANNELS)
    raw = request.args.get("to", "")
    if raw.startswith(" ") and raw.strip()[:1].isdigit():
        raw = "+" + raw.strip()  # an unencoded + in a query string arrives as a space
    items, total = sandbox.messages(db(), channel, sandbox.recipient(raw, settings.default_region),
                                    page, per_page)
    full = sees_full_addresses()
    return paged([_message_dict(m, full) for m in items], page, per_page, total)


def _message_dict(m: SandboxMessage, full: bool) -> dict:
    """A recorded message; for auditors the address is masked and live links lose their token
    (the sandbox page, which shows them, is for dispatchers only)."""
    return {"id": m.id, "at": m.at.isoformat(), "channel": m.channel,
            "to": m.to if full else mask_address(m.to),
            "subject": m.subject if full else hide_links(m.subject),
            "body": m.body if full else hide_links(m.body), "delivery_id": m.delivery_id,
            "provider_id": m.provider_id}


@bp.post("/sandbox/inbound")
@requires(*WRITE_PEOPLE)
def sandbox_inbound():
    """Simulate a resident's text `{"from", "body"}` through the real keyword logic (DESIGN §8).

    Returns `{"reply": text or null}`; the reply also lands in the outbox as an SMS to them.
    404 without SANDBOX=1: it skips Twilio's signature, so outside an explicit sandbox only
    signed webhooks may speak for a resident.
    """
    settings = get_settings()
    if not settings.sandbox_explicit:
        abort(404, "the sandbox is off (SANDBOX=1 is not set)")
    data = json_body(dict)
    return {"reply": sandbox.simulate_inbound(db(), settings, data.get("from"), data.get("body"),
                                              now())}
