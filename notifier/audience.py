"""Who an alert reaches, per channel: one code path for the preview and the fan-out.

`notifier.reach` finds the residents (sorted ids); here they become deliveries. The fan-out
reads subscriber rows a batch at a time with Core selects (never ORM objects), so memory stays
flat at a million residents; the preview counts the same residents with numpy instead,
sharing the channel and language rules (`Rules`) with the fan-out (`notifier.preview`).
"""
from __future__ import annotations

import json
from typing import Iterator, NamedTuple

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from notifier import channel_specs
from notifier.channel_state import state_of
from notifier.models import OptOut, Subscriber, SubscriberGroup
from notifier.reach import TEST_GROUP, Reach, resolve
from notifier.render import message_language

RESIDENT_CHANNELS = channel_specs.RESIDENT_CHANNELS  # broadcast ones post once, to nobody in particular
ADDRESS_OF = channel_specs.ADDRESS_OF
OPTED_OUT = "opted out"


class Recipient(NamedTuple):
    """One delivery to make: `language` is the tag of the text they get (`resident_language`
    is what they asked for); `skip_reason` is None or why it is recorded as skipped."""

    subscriber_id: int
    channel: str
    address: str
    language: str
    skip_reason: str | None = None
    resident_language: str | None = None
    quiet_hours: str | None = None  # theirs (notifier.quiet_hours); None: the default


def _row_batches(conn, reach: Reach, channels: list[str], batch_size: int) -> Iterator[list]:
    """Rows (id, phone, email, language, channels JSON, quiet hours, opted out per channel…)
    per batch."""
    columns = [Subscriber.id, Subscriber.phone, Subscriber.email, Subscriber.language,
               cast(Subscriber.channels, Text), Subscriber.quiet_hours]
    for channel in channels:  # the opt-out ledger's primary key makes each probe one lookup
        address = Subscriber.phone if ADDRESS_OF[channel] == "phone" else Subscriber.email
        columns.append(select(OptOut.address).where(OptOut.address == address, OptOut.channel == channel)
                       .exists().label(f"out_{channel}"))
    stmt = select(*columns).order_by(Subscriber.id)
    if reach.ids is None:
        if reach.test_only:
            stmt = stmt.where(Subscriber.id.in_(
                select(SubscriberGroup.subscriber_id).where(SubscriberGroup.name == TEST_GROUP)))
        last = 0
        while rows := conn.execute(stmt.where(Subscriber.id > last).limit(batch_size)).all():
            yield rows  # keyset pagination: each page starts after the last id seen
            last = rows[-1][0]
        return
    for start in range(0, len(reach.ids), batch_size):
        ids = reach.ids[start:start + batch_size].tolist()
        if ids[-1] - ids[0] < 1.5 * len(ids):
            # Dense ids (a town-wide alert): a range is far cheaper than a long IN list.
            wanted = set(ids)
            yield [row for row in conn.execute(stmt.where(Subscriber.id.between(ids[0], ids[-1])))
                   if row[0] in wanted]
        else:
            yield conn.execute(stmt.where(Subscriber.id.in_(ids))).all()


class Rules:
    """The per-resident choices both paths make, memoised (a town has few distinct values)."""

    def __init__(self, alert, settings):
        self.alert, self.settings = alert, settings
        # A channel that cannot send (notifier.channel_state) gets no deliveries at all.
        self.channels = [c for c in alert.channels
                         if c in RESIDENT_CHANNELS and state_of(c, settings).sendable]
        self._orders: dict[str | None, list[str]] = {}
        self._texts: dict[str, str] = {}

    def order(self, preferred: str | None) -> list[str]:
        """The alert's channels a resident takes, in their order, from their stored JSON list.

        An empty preference means the default: every channel they have an address for.
        """
        order = self._orders.get(preferred)
        if order is None:
            wants = json.loads(preferred) if preferred else None
            order = self._orders[preferred] = [c for c in dict.fromkeys(wants or RESIDENT_CHANNELS)
                                               if c in self.channels]
        return order

    def language(self, language: str | None) -> tuple[str, str]:
        """(text language, resident language): the tag of the text they get, and what they asked."""
        language = language or self.settings.default_language
        text = self._texts.get(language)
        if text is None:
            text = self._texts[language] = message_language(self.alert, language, self.settings)
        return text, language


def recipients_of(session: Session, reach: Reach, alert, settings,
                  batch_size: int = 1000) -> Iterator[list[Recipient]]:
    """Recipients of `reach`, one list per batch of residents (a resident never spans two)."""
    rules = Rules(alert, settings)
    if not rules.channels:
        return
    position = {c: 6 + i for i, c in enumerate(rules.channels)}  # its opt-out flag in a row
    conn = session.connection()  # Core on the session's connection: no ORM per row
    for rows in _row_batches(conn, reach, rules.channels, batch_size):
        batch = []
        for row in rows:
            sub_id, phone, email, language, preferred, quiet = row[:6]
            text_language, language = rules.language(language)
            for channel in rules.order(preferred):
                address = phone if ADDRESS_OF[channel] == "phone" else email
                if address:
                    batch.append(Recipient(sub_id, channel, address, text_language,
                                           OPTED_OUT if row[position[channel]] else None, language,
                                           quiet))
        if batch:
            yield batch


def iter_recipients(session: Session, alert, settings,
                    batch_size: int = 1000) -> Iterator[list[Recipient]]:
    """Everyone the alert reaches, per channel, in batches of up to `batch_size` residents.

    Each resident appears once per channel (alert channels ∩ their preferred channels that
    they have an address for); opted-out channels come with skip_reason "opted out".
    Raises InvalidInput when the stored area is invalid.
    """
    yield from recipients_of(session, resolve(session, alert), alert, settings, batch_size)


def preview(session: Session, alert, settings, now=None) -> dict:
    """The DESIGN §4 preview of `alert` at `now`: see `notifier.preview.preview`."""
    from notifier import preview as counting  # it builds on this module's rules

    return counting.preview(session, alert, settings, now)
