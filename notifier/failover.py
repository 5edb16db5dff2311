"""Failover: where a resident's warning goes when one of their channels fails for good.

A channel reports what a permanent failure says about the address (`LANDLINE`: the number
takes calls but not texts; `BAD_NUMBER`: no call or text reaches it; `BAD_MAILBOX`: the
mail server says the mailbox does not exist). The next channel is the first one, in the
resident's own preference order, that can still reach them after such a failure, that they
have an address for, have not opted out of, and that has no delivery of this alert yet.
The alert need not list it: a landline that cannot take the SMS of an SMS-only alert is
called (or emailed), so long as the resident chose that channel.

Only alerts of FAILOVER_SEVERITIES (Severe and Extreme by default) fail over, only while
they are being sent and not expired. Each failover is a new delivery that names the one it
replaces (`failover_of`); the unique key allows one delivery per channel, so a failover
that fails in turn can move on along the resident's list but never back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import alerts as alert_states, channel_specs, deliveries, subscriptions
from notifier.models import Alert, Delivery, Subscriber

LANDLINE, BAD_NUMBER, BAD_MAILBOX = "landline", "bad-number", "bad-mailbox"
# The channels that can still reach a resident after each kind of failure.
STILL_REACHES = {LANDLINE: ("voice", "email"), BAD_NUMBER: ("email",),
                 BAD_MAILBOX: ("sms", "voice")}
KINDS = tuple(STILL_REACHES)
DEFAULT_SEVERITIES = ("Severe", "Extreme")
RESIDENT_CHANNELS = channel_specs.RESIDENT_CHANNELS
ADDRESS_OF = subscriptions.ADDRESS_OF


@dataclass(frozen=True)
class Failed:
    """A failed delivery and what its failure says of the address (one of KINDS)."""

    delivery_id: int
    kind: str


def enabled(alert: Alert, settings) -> bool:
    """True when `alert` fails over: its severity is one of FAILOVER_SEVERITIES."""
    severities = getattr(settings, "failover_severities", DEFAULT_SEVERITIES)
    return alert.severity in severities


def next_channel(kind: str, preferences: Sequence[str] | None, addresses: dict[str, str | None],
                 taken: Iterable[str], refused: Iterable[str],
                 available: Iterable[str] | None = None) -> str | None:
    """The channel to try next, or None.

    `preferences`: the resident's channels in their order (empty: every channel, in the
    default order); `addresses`: {"phone": …, "email": …}; `taken`: channels this alert
    already has a delivery on for them; `refused`: channels they opted out of;
    `available`: channels this deployment can send on (None: all).
    """
    reaches = STILL_REACHES.get(kind, ())
    taken, refused = set(taken), set(refused)
    allowed = set(available) if available is not None else set(RESIDENT_CHANNELS)
    for channel in dict.fromkeys(preferences or RESIDENT_CHANNELS):
        if (channel in reaches and channel in allowed and channel not in taken
                and channel not in refused and addresses.get(ADDRESS_OF.get(channel, ""))):
            return channel
    return None


def fail_over(session: Session, failed: Sequence[Failed], settings, now: datetime,
              available: Iterable[str] | None = None) -> list[tuple[int, str]]:
    """Insert the pending failover delivery of each of `failed` that has one; return
    (id, channel) of those inserted, for the caller to queue once this transaction commits.

    A delivery that is not failed or undelivered, or that failed over already, is left alone:
    a repeated report changes nothing.
    """
    kinds = {f.delivery_id: f.kind for f in failed if f.kind in STILL_REACHES}
    if not kinds:
        return []
    rows = session.execute(
        select(Delivery.id, Delivery.alert_id, Delivery.subscriber_id, Delivery.channel,
               Delivery.language)
        .where(Delivery.id.in_(list(kinds)),
               Delivery.status.in_((deliveries.FAILED, deliveries.UNDELIVERED)),
               Delivery.subscriber_id.is_not(None))).all()
    live = _alerts_failing_over(session, {r.alert_id for r in rows}, settings, now)
    if not live:
        return []
    # A delivery fails over once: a repeated report of its failure makes nothing more.
    done = set(session.scalars(select(Delivery.failover_of).where(
        Delivery.alert_id.in_(live), Delivery.failover_of.in_([r.id for r in rows]))))
    rows = [r for r in rows if r.alert_id in live and r.id not in done]
    if not rows:
        return []
    subs = {s.id: s for s in session.execute(
        select(Subscriber.id, Subscriber.phone, Subscriber.email, Subscriber.channels)
        .where(Subscriber.id.in_({r.subscriber_id for r in rows})))}
    taken: dict[tuple[int, int], set[str]] = {}
    for alert_id, sub_id, channel in session.execute(
            select(Delivery.alert_id, Delivery.subscriber_id, Delivery.channel)
            .where(Delivery.alert_id.in_({r.alert_id for r in rows}),
                   Delivery.subscriber_id.in_(list(subs)))):
        taken.setdefault((alert_id, sub_id), set()).add(channel)
    refused = _refused(session, subs.values())
    new_rows = []
    for r in rows:
        sub = subs.get(r.subscriber_id)
        if sub is None:
            continue
        addresses = {"phone": sub.phone, "email": sub.email}
        key = (r.alert_id, r.subscriber_id)
        out = {c for c in RESIDENT_CHANNELS
               if addresses.get(ADDRESS_OF[c]) in refused.get(c, ())}
        channel = next_channel(kinds[r.id], _preferences(sub.channels), addresses,
                               taken.get(key, ()), out, available)
        if channel is None:
            continue
        taken.setdefault(key, set()).add(channel)  # one failover per channel, even in a batch
        new_rows.append({"alert_id": r.alert_id, "subscriber_id": r.subscriber_id,
                         "channel": channel, "address": addresses[ADDRESS_OF[channel]],
                         "language": r.language, "failover_of": r.id})
    return deliveries.insert_pending(session, new_rows, now)


def _alerts_failing_over(session: Session, alert_ids: set[int], settings,
                         now: datetime) -> set[int]:
    """The alerts among `alert_ids` still being sent, unexpired, whose severity fails over."""
    found = session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))
    return {a.id for a in found
            if a.state in (alert_states.SENDING, alert_states.SENT) and enabled(a, settings)
            and (a.expires_at is None or a.expires_at > now)}


def _refused(session: Session, subs) -> dict[str, set[str]]:
    """{channel: addresses opted out of it} among these residents' addresses."""
    subs = list(subs)
    return {c: subscriptions.opted_out(
                session, [getattr(s, ADDRESS_OF[c]) for s in subs if getattr(s, ADDRESS_OF[c])], c)
            for c in RESIDENT_CHANNELS}


def _preferences(stored) -> list[str]:
    # The JSON column comes back as a list from the ORM, as text from some Core paths.
    if isinstance(stored, str):
        stored = json.loads(stored or "null")
    return [c for c in (stored or []) if c in RESIDENT_CHANNELS]

