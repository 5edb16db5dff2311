"""The audit log: append-only, each event's hash chains to the one before (DESIGN §4 Audit).

The SHA-256 chain alone can be recomputed by anyone who can write the database, so each event
(and the chain's head) also carries an HMAC of its hash under AUDIT_KEY, a key that is never
stored in the database: rewriting an event then shows even when the chain was recomputed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from notifier.errors import ConfigError
from notifier.models import AuditEvent, AuditHead
from notifier.masking import mask_text

GENESIS = "0" * 64
_HEAD_ID = 1


def _scrub(value):
    """Numbers and emails masked: the log is permanent, so erasure never has to touch it."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def _at_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, object: str | None,
               details: dict) -> str:
    """Return the SHA-256 hex of `prev_hash` followed by the event's canonical JSON."""
    canonical = json.dumps({"at": _at_text(at), "actor": actor, "action": action,
                            "object": object, "details": details},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def event_mac(key: str, digest: str) -> str:
    """The HMAC-SHA256 (hex) that seals an event whose chain hash is `digest`."""
    return _mac(key, b"event:", digest)


def head_mac(key: str, digest: str) -> str:
    """The HMAC-SHA256 (hex) that seals the chain's head at `digest` (so no tail is cut off)."""
    return _mac(key, b"head:", digest)


def _mac(key: str, label: bytes, digest: str) -> str:
    message = label + digest.encode("ascii")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _key(session: Session) -> str:
    key = session.info.get("audit_key")
    if not key:
        raise ConfigError("AUDIT_KEY", "this database session has no audit key "
                                       "(the process must call notifier.db.use_audit_key)")
    return key


def _sealed(mac: str | None, expected: str) -> bool:
    return mac is not None and hmac.compare_digest(mac, expected)


def _lock_head(session: Session) -> str:
    """Take the chain's lock and return its current head hash.

    The UPDATE comes before any read: on PostgreSQL it takes the row lock, on SQLite the
    write lock, so two writers can never both chain onto the same previous hash.
    """
    stmt = update(AuditHead).where(AuditHead.id == _HEAD_ID).values(hash=AuditHead.hash)
    if session.execute(stmt).rowcount == 0:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        session.execute(dialect_insert(AuditHead).values(id=_HEAD_ID, hash=GENESIS)
                        .on_conflict_do_nothing(index_elements=["id"]))
        session.execute(stmt)
    return session.scalar(select(AuditHead.hash).where(AuditHead.id == _HEAD_ID))


def record(session: Session, actor: str, action: str, object: str | None, details: dict | None,
           now: datetime) -> AuditEvent:
    """Append one event (in the caller's transaction) and return it.

    `details` must be JSON-able; phone numbers and emails in it are masked (ids and
    masked values only: never a resident's text). `action` reads like
    `alert.send`, `object` like `alert:12`.
    """
    # Round-trip through JSON so the hash covers exactly what the database will give back.
    clean = json.loads(json.dumps(_scrub(details or {}), default=str))
    key = _key(session)
    prev = _lock_head(session)
    at = now.astimezone(timezone.utc)
    digest = event_hash(prev, at, actor, action, object, clean)
    event = AuditEvent(at=at, actor=actor, action=action, object=object, details=clean,
                       prev_hash=prev, hash=digest, mac=event_mac(key, digest))
    session.add(event)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == _HEAD_ID)
                    .values(hash=digest, mac=head_mac(key, digest)))
    return event


def verify_chain(session: Session, batch: int = 5000) -> tuple[bool, int | None]:
    """Recompute every hash and check every seal; return (True, None) or (False, id of the
    first bad event). Raises ConfigError when the session has no audit key.

    A chain whose last events were deleted reports the id after the last one left.
    """
    key = _key(session)
    prev, last_id = GENESIS, 0
    for rows in _event_rows(session, batch):
        for row in rows:
            expected = event_hash(prev, row.at, row.actor, row.action, row.object, row.details)
            if (row.prev_hash != prev or row.hash != expected
                    or not _sealed(row.mac, event_mac(key, row.hash))):
                return False, row.id
            prev, last_id = row.hash, row.id
    head = session.execute(select(AuditHead.hash, AuditHead.mac)
                           .where(AuditHead.id == _HEAD_ID)).first()
    if head is None:
        return (True, None) if prev == GENESIS else (False, last_id + 1)
    if head.hash != prev or not _sealed(head.mac, head_mac(key, head.hash)):
        return False, last_id + 1
    return True, None


def _event_rows(session: Session, batch: int):
    """The events in id order, `batch` rows at a time (columns only, no ORM objects)."""
    after = 0
    while True:
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                   AuditEvent.object, AuditEvent.details, AuditEvent.prev_hash, AuditEvent.hash,
                   AuditEvent.mac)
            .where(AuditEvent.id > after).order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def select_events(actor: str | None = None, action: str | None = None, object: str | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> Select:
    """A query of the events with exactly this actor/action/object, at `since` ≤ at < `until`."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if object:
        query = query.where(AuditEvent.object == object)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query


def list_events(session: Session, page: int = 1, per_page: int = 50, actor: str | None = None,
                action: str | None = None, object: str | None = None,
                since: datetime | None = None,
                until: datetime | None = None) -> tuple[list[AuditEvent], int]:
    """Return (events newest first, total) filtered as `select_events` does."""
    query = select_events(actor, action, object, since, until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = max(1, page), max(1, min(per_page, 500))
    items = session.scalars(query.order_by(AuditEvent.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total or 0


def event_dict(e: AuditEvent) -> dict:
    """The API shape of an event."""
    return {"id": e.id, "at": _at_text(e.at), "actor": e.actor, "action": e.action,
            "object": e.object, "details": e.details, "hash": e.hash}


def actions(session: Session) -> list[str]:
    """The distinct actions on record, sorted (for a filter's choices)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
