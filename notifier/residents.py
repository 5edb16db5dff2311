"""A resident on `/me` (DESIGN §12): single-use sign-in links, changing their choices, "Stop
everything" and "Erase my data", each audited with the resident as actor ("resident:<id>")."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notifier import audit, erasure, subscriptions
from notifier.i18n import N_
from notifier.models import Subscriber
from notifier.signup_models import ResidentLink

LINK_TTL = timedelta(minutes=15)
STOP_SOURCE = "web-stop"

LINK_SMS = N_("%(agency)s: sign in to change your alerts: %(link)s (valid 15 minutes)")
LINK_SUBJECT = N_("Your sign-in link for alerts from %(agency)s")
LINK_EMAIL = N_("Open this link within 15 minutes to change your alerts from %(agency)s:"
                "\n\n%(link)s\n\nIf you did not ask for it, ignore this email.")


def actor(sub: Subscriber) -> str:
    return f"resident:{sub.id}"


def find(session: Session, address: str | None) -> Subscriber | None:
    """The subscriber holding `address` (E.164 phone or lower-cased email), or None."""
    if not address:
        return None
    return session.scalar(select(Subscriber).where(
        or_(Subscriber.phone == address, Subscriber.email == address)).limit(1))


def new_link(session: Session, sub: Subscriber, channel: str, now: datetime) -> ResidentLink:
    """A sign-in link row for `sub`, sent on `channel`; the caller signs its id into the URL."""
    link = ResidentLink(subscriber_id=sub.id, channel=channel, created_at=now,
                        expires_at=now + LINK_TTL)
    session.add(link)
    session.flush()
    return link


def use_link(session: Session, link_id: int | None, now: datetime) -> Subscriber | None:
    """The subscriber a link signs in, marking it used; None when unknown, used or expired."""
    link = session.get(ResidentLink, link_id) if link_id is not None else None
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    link.used_at = now
    sub = session.get(Subscriber, link.subscriber_id)
    if sub is not None:
        audit.record(session, actor(sub), "resident.sign_in", f"subscriber:{sub.id}",
                     {"channel": link.channel}, now)
    session.flush()
    return sub


def change(session: Session, settings, sub: Subscriber, choices: dict, now: datetime) -> dict:
    """Apply the resident's clean choices (language, channels, places, topics, quiet hours when
    given); return what changed ({field: new value}), audited as resident.update."""
    before = subscriptions.subscriber_dict(session, sub)
    data = {k: choices[k] for k in ("language", "channels", "locations", "zones", "topics",
                                    "quiet_hours") if k in choices}
    subscriptions.update_subscriber(session, sub, data, now, settings)
    after = subscriptions.subscriber_dict(session, sub)
    changed = {k: after[k] for k in data if before[k] != after[k]}
    if changed:
        audit.record(session, actor(sub), "resident.update", f"subscriber:{sub.id}",
                     {"fields": sorted(changed)}, now)
    return changed


def stop_everything(session: Session, sub: Subscriber, now: datetime) -> int:
    """Opt every address of `sub` out of every channel (ledger rows, like STOP); return how
    many ledger rows were written. Later alerts record their deliveries as skipped."""
    written = 0
    for channel in subscriptions.CHANNELS:
        address = sub.phone if subscriptions.ADDRESS_OF[channel] == "phone" else sub.email
        if address:
            subscriptions.opt_out(session, address, channel, STOP_SOURCE, None, now,
                                  actor=actor(sub))
            written += 1
    audit.record(session, actor(sub), "resident.stop_everything", f"subscriber:{sub.id}",
                 {"opt_outs": written}, now)
    return written


def erase(session: Session, settings, sub: Subscriber, now: datetime) -> None:
    """Erase `sub` the way the admin's erasure does (notifier.erasure), audited first."""
    audit.record(session, actor(sub), "resident.erase", f"subscriber:{sub.id}", {}, now)
    erasure.erase_subscriber(session, settings, sub, now)
