"""Subscriber records and the opt-out ledger: create, update, search, STOP and START."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier import channel_specs, erasure, hints, topics
from notifier.errors import Conflict, InvalidInput
from notifier.models import (Consent, Location, OptOut, Subscriber, SubscriberGroup, SubscriberTopic,
                             SubscriberZone)

CHANNELS = channel_specs.RESIDENT_CHANNELS
ADDRESS_OF = channel_specs.ADDRESS_OF
_IN_CHUNK = 500  # bound parameters per IN (…): well under SQLite's and PostgreSQL's limits
_PHONE_LIKE = re.compile(r"[\d\s+().\-]+")
NEEDS_ADDRESS = "A subscriber needs a phone number or an email address."


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 UTC with a Z (`2026-11-22T06:00:00Z`), or None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def chunks(items: Iterable, size: int = _IN_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def settle_channels(chosen: list | None, phone: str | None, email: str | None,
                    current: list | None = None, had_phone: bool = False,
                    had_email: bool = False) -> list[str]:
    """Return the channels a subscriber ends up with; raise InvalidInput when they can't have them.

    `chosen` (the resident's order) wins when given and every channel has its address. Else a
    new subscriber gets every channel they have an address for; an existing one (`current`)
    keeps the channels whose address remains, plus those of an address they did not have.
    """
    have = {"phone": bool(phone), "email": bool(email)}
    if not any(have.values()):
        raise InvalidInput({"phone": [NEEDS_ADDRESS], "email": [NEEDS_ADDRESS]})
    default = [c for c in CHANNELS if have[ADDRESS_OF[c]]]
    if chosen is not None:
        missing = [c for c in chosen if not have[ADDRESS_OF[c]]]
        if missing:
            raise InvalidInput({"channels": [
                f"{c} needs {'a phone number' if ADDRESS_OF[c] == 'phone' else 'an email address'}."
                for c in missing]})
        return list(chosen)
    if current is None:
        return default
    had = {"phone": had_phone, "email": had_email}
    kept = [c for c in current if c in ADDRESS_OF and have[ADDRESS_OF[c]]]
    gained = [c for c in default if c not in kept and not had[ADDRESS_OF[c]]]
    return kept + gained or default


def _check_unique(session: Session, phone: str | None, email: str | None,
                  exclude_id: int | None = None) -> None:
    for column, value, what in ((Subscriber.phone, phone, "phone"), (Subscriber.email, email, "email")):
        if not value:
            continue
        query = select(Subscriber.id).where(column == value)
        if exclude_id is not None:
            query = query.where(Subscriber.id != exclude_id)
        existing = session.scalar(query)
        if existing is not None:
            raise Conflict(f"{what} already registered", existing)


def _flush_unique(session: Session, sub: Subscriber, apply) -> None:
    """Run `apply()` and flush in a savepoint: a racing writer's duplicate becomes a Conflict."""
    phone, email, sub_id = sub.phone, sub.email, sub.id
    try:
        with session.begin_nested():
            apply()
            phone, email = sub.phone, sub.email
    except IntegrityError:
        _check_unique(session, phone, email, sub_id)
        raise Conflict("phone or email already registered") from None


def _set_links(session: Session, sub: Subscriber, data: dict) -> None:
    """Replace the locations, zones, groups and topics `data` gives; InvalidInput naming an
    unknown topic (zones may be followed before they are drawn; topics are the agency's)."""
    if data.get("topics"):
        topics.check_codes(session, data["topics"])
    if "locations" in data:
        sub.locations = [Location(label=loc.get("label"), lat=loc["lat"], lon=loc["lon"])
                         for loc in data["locations"] or []]
    for key, attr, cls, column in (("zones", "zone_links", SubscriberZone, "zone_code"),
                                   ("groups", "group_links", SubscriberGroup, "name"),
                                   ("topics", "topic_links", SubscriberTopic, "topic_code")):
        if key not in data:
            continue
        wanted = list(dict.fromkeys(data[key] or []))
        links = getattr(sub, attr)
        # Keep rows that stay: deleting and re-adding the same key would clash on flush.
        keep = [link for link in links if getattr(link, column) in wanted]
        present = {getattr(link, column) for link in keep}
        setattr(sub, attr, keep + [cls(**{column: v}) for v in wanted if v not in present])


def create_subscriber(session: Session, data: dict, now: datetime, settings) -> Subscriber:
    """Create a subscriber from schema-clean `data` (schemas.make_subscriber_schema).

    An opt-out kept from an erased record of the same address applies again. Raises InvalidInput (no phone or email, a channel without its address) or
    Conflict("phone already registered" / "email already registered", existing_id).
    """
    phone, email = data.get("phone"), data.get("email")
    channels = settle_channels(data.get("channels"), phone, email)
    _check_unique(session, phone, email)
    sub = Subscriber(name=data.get("name"), phone=phone, email=email,
                     language=data.get("language") or "en", channels=channels,
                     quiet_hours=data.get("quiet_hours"), created_at=now, updated_at=now)
    _set_links(session, sub, data)
    _flush_unique(session, sub, lambda: session.add(sub))
    erasure.restore_opt_outs(session, settings, (phone, email))
    return sub


def update_subscriber(session: Session, sub: Subscriber, data: dict, now: datetime,
                      settings) -> Subscriber:
    """Apply a partial, schema-clean update; same checks and errors as create_subscriber."""
    phone = data["phone"] if "phone" in data else sub.phone
    email = data["email"] if "email" in data else sub.email
    if "channels" in data:  # null: back to the default for their addresses
        channels = settle_channels(data["channels"], phone, email)
    else:
        channels = settle_channels(None, phone, email, current=sub.channels,
                                   had_phone=bool(sub.phone), had_email=bool(sub.email))
    _check_unique(session, phone if phone != sub.phone else None,
                  email if email != sub.email else None, sub.id)

    def apply():
        sub.phone, sub.email, sub.channels = phone, email, channels
        if "name" in data:
            sub.name = data["name"]
        if data.get("language"):
            sub.language = data["language"]
        if "quiet_hours" in data:  # null: back to the agency's default
            sub.quiet_hours = data["quiet_hours"]
        _set_links(session, sub, data)
        sub.updated_at = now

    _flush_unique(session, sub, apply)
    erasure.restore_opt_outs(session, settings, (phone, email))
    return sub


def opted_out_channels(session: Session, phone: str | None, email: str | None) -> dict[str, bool]:
    """{"sms": bool, "voice": bool, "email": bool} for these addresses."""
    addresses = [a for a in (phone, email) if a]
    rows = {tuple(r) for r in session.execute(select(OptOut.address, OptOut.channel)
                                              .where(OptOut.address.in_(addresses)))}
    return {c: ((phone if ADDRESS_OF[c] == "phone" else email), c) in rows for c in CHANNELS}


def subscriber_dict(session: Session, sub: Subscriber) -> dict:
    """The API shape of a subscriber (DESIGN §4)."""
    return {
        "id": sub.id, "name": sub.name, "phone": sub.phone, "email": sub.email,
        "language": sub.language, "channels": list(sub.channels or []),
        "locations": [{"label": loc.label, "lat": loc.lat, "lon": loc.lon} for loc in sub.locations],
        "zones": sorted(link.zone_code for link in sub.zone_links),
        "groups": sorted(link.name for link in sub.group_links),
        "topics": sorted(link.topic_code for link in sub.topic_links),
        "opted_out": opted_out_channels(session, sub.phone, sub.email),
        # None: the agency's QUIET_HOURS apply (notifier.quiet_hours).
        "quiet_hours": sub.quiet_hours,
        "created_at": iso(sub.created_at), "updated_at": iso(sub.updated_at),
    }


def search_subscribers(session: Session, q: str | None = None, zone: str | None = None,
                       language: str | None = None, page: int = 1,
                       per_page: int = 50) -> tuple[list[Subscriber], int]:
    """Return (subscribers by id, total). `q` is a substring of the phone, email or name;
    `language` matches the tag or its regional variants (`es` finds `es-MX`)."""
    query = select(Subscriber)
    if q and q.strip():
        q = q.strip()
        options = [Subscriber.email.contains(q.lower(), autoescape=True),
                   func.lower(Subscriber.name).contains(q.lower(), autoescape=True)]
        digits = "".join(ch for ch in q if ch.isdigit())
        if digits and _PHONE_LIKE.fullmatch(q):  # "(617) 555-01" finds +161755501xx
            options.append(Subscriber.phone.contains(digits, autoescape=True))
        query = query.where(or_(*options))
    if zone:
        query = query.where(Subscriber.id.in_(
            select(SubscriberZone.subscriber_id).where(SubscriberZone.zone_code == zone)))
    if language:
        query = query.where(or_(Subscriber.language == language,
                                Subscriber.language.startswith(f"{language}-", autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(1, page), max(1, min(per_page, 500))
    items = session.scalars(query.order_by(Subscriber.id)
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def _dialect_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _audit_ledger(session: Session, action: str, address: str, channel: str, source: str,
                  actor: str | None, now: datetime) -> None:
    """One audit event per opt-out or opt-in, whoever made it (resident, carrier, API).

    The log is permanent, so it holds no text and only a masked address: erasure must work.
    """
    from notifier import audit
    from notifier.phones import mask

    sub_id = session.scalar(select(Subscriber.id).where(
        or_(Subscriber.phone == address, Subscriber.email == address)).limit(1))
    audit.record(session, actor or source, action,
                 f"subscriber:{sub_id}" if sub_id is not None else f"address:{mask(address)}",
                 {"channel": channel, "source": source}, now)


def opt_out(session: Session, address: str, channel: str, source: str, body: str | None,
            now: datetime, actor: str | None = None) -> None:
    """Record that `address` receives nothing more on `channel` (one ledger row, upserted).

    Also written to the audit log, by `actor` (default: the source, e.g. "carrier").
    """
    if channel not in CHANNELS:
        raise InvalidInput({"channel": [f"Must be one of: {', '.join(CHANNELS)}."]})
    stmt = _dialect_insert(session)(OptOut).values(address=address, channel=channel, at=now,
                                                   source=source, body=body)
    session.execute(stmt.on_conflict_do_update(index_elements=["address", "channel"],
                                               set_={"at": now, "source": source, "body": body}))
    _audit_ledger(session, "subscriber.opt_out", address, channel, source, actor, now)
    # Messages of batches already claimed are checked against this before they leave.
    hints.note_opt_out(session, address, channel)


def carrier_opt_out(session: Session, address: str, channel: str, sent_at: datetime | None,
                    now: datetime) -> bool:
    """Record the carrier's report that `address` refuses `channel` (Twilio 21610) about a
    message handed over at `sent_at`; return False, recording nothing, when the resident has
    opted in since.

    A status callback carries no time of its own and a signed one can be replayed, so the
    report dates from the message it is about: a START after that message wins.
    """
    latest = session.scalar(select(Consent.at).where(Consent.address == address,
                                                     Consent.channel == channel)
                            .order_by(Consent.at.desc()).limit(1))
    if latest is not None and latest > (sent_at or now):
        return False
    opt_out(session, address, channel, source="carrier", body=None, now=now)
    return True


def opt_in(session: Session, address: str, channel: str, source: str, wording: str | None,
           now: datetime, actor: str | None = None) -> bool:
    """Lift an opt-out and record the consent (and an audit event by `actor`); return True
    when there was an opt-out to lift."""
    if channel not in CHANNELS:
        raise InvalidInput({"channel": [f"Must be one of: {', '.join(CHANNELS)}."]})
    removed = session.execute(delete(OptOut).where(OptOut.address == address,
                                                   OptOut.channel == channel)).rowcount
    session.add(Consent(address=address, channel=channel, at=now, source=source, wording=wording))
    session.flush()
    _audit_ledger(session, "subscriber.opt_in", address, channel, source, actor, now)
    return removed > 0


def opted_out(session: Session, addresses: Iterable[str], channel: str) -> set[str]:
    """The subset of `addresses` opted out of `channel` (a few batched queries)."""
    found: set[str] = set()
    for part in chunks({a for a in addresses if a}):
        found.update(session.scalars(select(OptOut.address).where(
            OptOut.channel == channel, OptOut.address.in_(part))))
    return found


def parse_csv(text: str) -> list[dict | None]:
    """Rows of an import CSV as subscriber objects (see notifier.subscriber_import)."""
    from notifier.subscriber_import import parse_csv as parse

    return parse(text)


def import_subscribers(session: Session, rows: list, settings, now: datetime) -> dict:
    """Create or update many subscribers (see notifier.subscriber_import)."""
    from notifier.subscriber_import import import_subscribers as run

    return run(session, rows, settings, now)
