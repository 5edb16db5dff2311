"""Erasing a resident (DESIGN §9): their number, email, name and texts leave every table and file.

What stays is anonymous: deliveries (counts per alert hold) without subscriber, address or a
readable error text, and the audit log, which never held personal data in the first place.

The opt-out ledger is the one thing that must outlive the person: a STOP obeyed only until the
record is erased would let a later import message someone who asked never to be messaged again.
So each of their opt-outs stays as a keyed one-way hash of the address (HMAC-SHA256 with
LEDGER_KEY, which lives outside the database: a stolen database cannot be walked through every
possible number to recover it). When the same address comes back (an import, the API, a text),
`restore_opt_outs` turns the hash back into a plain ledger row before anything is sent.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Iterable

import phonenumbers
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from notifier import import_jobs
from notifier.masking import mask_text
from notifier.models import (Consent, Delivery, InboundMessage, OptOut, SandboxMessage,
                             Subscriber)
from notifier.phones import mask
from notifier.signup_models import ResidentLink, Signup, SignupCode

ERASED = "erased:"  # ledger addresses that are hashes start with this (never a real address)
_AFTER_ERASED = "erased;"  # the next string up: a range on the primary key finds them all


def ledger_key(settings) -> str:
    return settings.ledger_key or settings.secret_key


def address_hash(key: str, address: str) -> str:
    """The ledger's stand-in for an erased `address` (E.164 or lower-cased email)."""
    digest = hmac.new(key.encode("utf-8"), address.encode("utf-8"), hashlib.sha256).hexdigest()
    return ERASED + digest


def _scrubbed(text: str | None, secrets: tuple[str, ...]) -> str | None:
    """`text` with the person's own strings (however spelled) masked, then any number or email."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 3:
            start = text.lower().find(secret.lower())
            while start >= 0:
                replacement = mask(secret)
                text = text[:start] + replacement + text[start + len(secret):]
                start = text.lower().find(secret.lower(), start + len(replacement))
    return mask_text(text)


def erase_subscriber(session: Session, settings, sub: Subscriber, now: datetime) -> None:
    """Erase `sub` in the caller's transaction; see the module's docstring for what stays."""
    phone, email, name = sub.phone, sub.email, sub.name
    addresses = [a for a in (phone, email) if a]
    national = phonenumbers.national_significant_number(phonenumbers.parse(phone)) if phone else None
    secrets = tuple(s for s in (phone, national, email, name) if s)
    theirs = [Delivery.subscriber_id == sub.id]
    if addresses:
        theirs.append(Delivery.address.in_(addresses))
    rows = session.execute(select(Delivery.id, Delivery.error_message).where(or_(*theirs))).all()
    delivery_ids = [r.id for r in rows]
    table = Delivery.__table__
    if rows:
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                subscriber_id=None, address=None, error_message=bindparam("b_message"),
                updated_at=now),
            [{"b_id": r.id, "b_message": _scrubbed(r.error_message, secrets)} for r in rows])
    outbox = [SandboxMessage.to.in_(addresses)] if addresses else []
    for start in range(0, len(delivery_ids), 500):
        outbox.append(SandboxMessage.delivery_id.in_(delivery_ids[start:start + 500]))
    if outbox:
        session.execute(delete(SandboxMessage).where(or_(*outbox)),
                        execution_options={"synchronize_session": False})
    texts = [InboundMessage.subscriber_id == sub.id]
    if phone:
        texts.append(InboundMessage.from_number == phone)
    session.execute(delete(InboundMessage).where(or_(*texts)),
                    execution_options={"synchronize_session": False})
    if addresses:
        session.execute(delete(Consent).where(Consent.address.in_(addresses)),
                        execution_options={"synchronize_session": False})
        _hash_opt_outs(session, ledger_key(settings), addresses)
    _erase_signups(session, sub.id, addresses)
    import_jobs.erase_person(settings.instance_path, phone, email, secrets,
                             settings.default_region)
    session.delete(sub)
    session.flush()


def _erase_signups(session: Session, sub_id: int, addresses: list[str]) -> None:
    """Their web sign-ups (pending or done), codes texted and sign-in links go too."""
    theirs = [Signup.subscriber_id == sub_id]
    if addresses:
        theirs += [Signup.phone.in_(addresses), Signup.email.in_(addresses)]
    ids = list(session.scalars(select(Signup.id).where(or_(*theirs))))
    codes = [SignupCode.signup_id.in_(ids)] if ids else []
    if addresses:
        codes.append(SignupCode.phone.in_(addresses))
    if codes:
        session.execute(delete(SignupCode).where(or_(*codes)),
                        execution_options={"synchronize_session": False})
    if ids:
        session.execute(delete(Signup).where(Signup.id.in_(ids)),
                        execution_options={"synchronize_session": False})
    session.execute(delete(ResidentLink).where(ResidentLink.subscriber_id == sub_id),
                    execution_options={"synchronize_session": False})


def _upsert(session: Session):
    from notifier.subscriptions import _dialect_insert

    return _dialect_insert(session)(OptOut)


def _hash_opt_outs(session: Session, key: str, addresses: list[str]) -> None:
    """Replace the plain ledger rows of `addresses` by hashed ones (the resident's text goes)."""
    rows = session.execute(select(OptOut.address, OptOut.channel, OptOut.at, OptOut.source)
                           .where(OptOut.address.in_(addresses))).all()
    for row in rows:
        stmt = _upsert(session).values(address=address_hash(key, row.address),
                                       channel=row.channel, at=row.at, source=row.source,
                                       body=None)
        session.execute(stmt.on_conflict_do_update(index_elements=["address", "channel"],
                                                   set_={"at": row.at, "source": row.source}))
    session.execute(delete(OptOut).where(OptOut.address.in_(addresses)),
                    execution_options={"synchronize_session": False})


def restore_opt_outs(session: Session, settings, addresses: Iterable[str | None]) -> int:
    """Turn hashed ledger rows of `addresses` back into plain ones; return how many.

    Called wherever an address (re)enters `subscribers`, before anything can be sent to it.
    One cheap query when no erased resident ever opted out.
    """
    any_erased = session.scalar(select(OptOut.address).where(
        OptOut.address >= ERASED, OptOut.address < _AFTER_ERASED).limit(1))
    if any_erased is None:
        return 0
    key = ledger_key(settings)
    by_hash = {address_hash(key, a): a for a in set(addresses) if a}
    restored = 0
    hashes = list(by_hash)
    for start in range(0, len(hashes), 500):
        part = hashes[start:start + 500]
        for row in session.execute(select(OptOut).where(OptOut.address.in_(part))).scalars().all():
            stmt = _upsert(session).values(address=by_hash[row.address], channel=row.channel,
                                           at=row.at, source=row.source, body=None)
            session.execute(stmt.on_conflict_do_nothing(index_elements=["address", "channel"]))
            session.delete(row)
            restored += 1
    if restored:
        session.flush()
    return restored
