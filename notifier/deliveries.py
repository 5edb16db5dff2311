"""The delivery state machine: every status change of a Delivery happens here (DESIGN §2).

pending → sending → sent → delivered; sent → undelivered|failed (callback);
scheduled → pending when a resident's quiet hours end (its `next_attempt_at`), scheduled →
cancelled with its alert, scheduled → skipped when its alert expires first;
sending → retry_wait → sending, or failed; pending|sending → skipped; pending|retry_wait →
cancelled; sending → cancelled for a claimed message withheld because its alert was cancelled;
sending → pending for a claimed message handed back unsent (it gave way to emergency work).
Every write is guarded by the statuses it may leave, so duplicated jobs and late or repeated
provider callbacks can never move a delivery backwards. Provider error texts are stored
masked: an SMTP refusal quotes the address, and the address must go with erasure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable, Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from notifier.masking import mask_text
from notifier.models import Delivery

PENDING, SENDING, SENT, DELIVERED = "pending", "sending", "sent", "delivered"
UNDELIVERED, FAILED, RETRY_WAIT = "undelivered", "failed", "retry_wait"
SKIPPED, CANCELLED = "skipped", "cancelled"
# Waits for the resident's quiet hours to end (notifier.quiet_hours); never claimed as such.
SCHEDULED = "scheduled"
STATUSES = (PENDING, SENDING, SENT, DELIVERED, FAILED, UNDELIVERED, RETRY_WAIT, SKIPPED, CANCELLED,
            SCHEDULED)
FINAL = frozenset({DELIVERED, UNDELIVERED, FAILED, SKIPPED, CANCELLED})
CLAIMABLE = (PENDING, RETRY_WAIT)
# Callback order: a status may only replace one of lower rank.
_RANK = {PENDING: 0, RETRY_WAIT: 1, SENDING: 2, SENT: 3, UNDELIVERED: 4, FAILED: 4, DELIVERED: 5}


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now owns (status `sending`)."""

    id: int
    alert_id: int
    subscriber_id: int | None
    channel: str
    address: str | None
    language: str
    attempts: int
    event: str | None = None  # a broadcast delivery's event (notifier.broadcast)


def insert_pending(session: Session, rows: Sequence[dict], now: datetime) -> list[tuple[int, str]]:
    """Insert deliveries (dicts with alert_id, subscriber_id, channel, address, language and
    optionally status/error_message, or status SCHEDULED with next_attempt_at); rows that
    already exist are left alone.

    Returns (id, channel) of the rows inserted as `pending`, for the caller to enqueue.
    """
    if not rows:
        return []
    # One shape for every row of the executemany: a scheduled row's time, None for the rest.
    values = [{"status": PENDING, "attempts": 0, "queued_at": now, "updated_at": now,
               "error_message": None, "next_attempt_at": None, **r} for r in rows]
    if len(values) >= COPY_FROM and session.get_bind().dialect.name == "postgresql":
        return _copy_pending(session, values)
    stmt = (_dialect_insert(session)(Delivery).on_conflict_do_nothing(
        index_elements=["alert_id", "subscriber_id", "channel"])
        .returning(Delivery.id, Delivery.channel, Delivery.status))
    inserted = session.execute(stmt, values).all()
    return [(r[0], r[1]) for r in inserted if r[2] == PENDING]


# On PostgreSQL a fan-out batch goes through COPY into a staging table, then one INSERT…SELECT:
# psycopg spent more time parsing a 1,000-row INSERT's 11,000 placeholders than the server
# spent inserting. Small inserts (failovers) keep the plain statement.
COPY_FROM = 200
_STAGED = ("alert_id", "subscriber_id", "channel", "address", "language", "status", "attempts",
           "queued_at", "updated_at", "error_message", "next_attempt_at")
_STAGING = "tocsin_delivery_staging"


def _copy_pending(session: Session, values: list[dict]) -> list[tuple[int, str]]:
    columns = ", ".join(_STAGED)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor:
        # One per connection, emptied by each use; its columns are the table's own.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS "
                       f"SELECT {columns} FROM deliveries WITH NO DATA")
        with cursor.copy(f"COPY {_STAGING} ({columns}) FROM STDIN") as copy:
            for v in values:
                copy.write_row(tuple(v.get(c) for c in _STAGED))
        cursor.execute(f"INSERT INTO deliveries ({columns}) SELECT {columns} FROM {_STAGING} "
                       "ON CONFLICT (alert_id, subscriber_id, channel) DO NOTHING "
                       "RETURNING id, channel, status")
        inserted = cursor.fetchall()
        cursor.execute(f"TRUNCATE {_STAGING}")
    return [(r[0], r[1]) for r in inserted if r[2] == PENDING]


def insert_broadcast(session: Session, rows: Sequence[dict], now: datetime) -> list[tuple[int, str]]:
    """Insert broadcast deliveries (notifier.broadcast.rows_for); one already made for the same
    alert, channel, target and event is left alone. Returns (id, channel) of those inserted."""
    if not rows:
        return []
    values = [{"status": PENDING, "attempts": 0, "queued_at": now, "updated_at": now, **r}
              for r in rows]
    stmt = (_dialect_insert(session)(Delivery).on_conflict_do_nothing(
        index_elements=["alert_id", "channel", "address", "event"],
        index_where=Delivery.event.is_not(None))
        .returning(Delivery.id, Delivery.channel))
    return [(r[0], r[1]) for r in session.execute(stmt, values).all()]


def _dialect_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def claim(session: Session, ids: Iterable[int], now: datetime,
          token: str | None = None) -> list[Claimed]:
    """Move the claimable ones among `ids` to `sending` and return them; others are untouched.

    `token` names the claim (and the worker's heartbeat, workers/heartbeat.py) on the rows.
    """
    ids = list(ids)
    if not ids:
        return []
    stmt = (update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status.in_(CLAIMABLE))
            .values(status=SENDING, attempts=Delivery.attempts + 1, updated_at=now,
                    next_attempt_at=None, claim_token=token)
            .returning(Delivery.id, Delivery.alert_id, Delivery.subscriber_id, Delivery.channel,
                       Delivery.address, Delivery.language, Delivery.attempts, Delivery.event))
    return sorted((Claimed(*row) for row in session.execute(stmt)), key=lambda c: c.id)


def _guarded_many(session: Session, rows: list[dict], values: dict,
                  status: str | None = None) -> None:
    """One executemany UPDATE of deliveries by id (`b_id` in each row), guarded by `status`."""
    if not rows:
        return
    table = Delivery.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id"))
    if status is not None:
        stmt = stmt.where(table.c.status == status)
    session.connection().execute(stmt.values(**values), rows)


def mark_sent(session: Session, sent: Sequence[tuple[int, str]], now: datetime) -> None:
    """Record provider ids of accepted messages [(delivery_id, provider_id)].

    A callback may have arrived first and moved the row on; then only the id is filled in.
    """
    rows = [{"b_id": d, "b_provider_id": p} for d, p in sent]
    _guarded_many(session, rows, {"provider_id": bindparam("b_provider_id"), "updated_at": now})
    _guarded_many(session, rows, {"status": SENT, "sent_at": now}, SENDING)


def mark_failed(session: Session, failures: Sequence[tuple[int, str | None, str]],
                now: datetime) -> None:
    """Fail `sending` rows permanently: [(delivery_id, error_code, message)]."""
    _guarded_many(session, [{"b_id": d, "b_code": c, "b_message": mask_text(m)}
                            for d, c, m in failures],
                  {"status": FAILED, "error_code": bindparam("b_code"),
                   "error_message": bindparam("b_message"), "updated_at": now}, SENDING)


def schedule_retry(session: Session, retries: Sequence[tuple[int, str | None, str, datetime]],
                   now: datetime) -> None:
    """Park `sending` rows until their next attempt: [(delivery_id, code, message, next_at)]."""
    _guarded_many(session, [{"b_id": d, "b_code": c, "b_message": mask_text(m), "b_next": n}
                            for d, c, m, n in retries],
                  {"status": RETRY_WAIT, "error_code": bindparam("b_code"),
                   "error_message": bindparam("b_message"),
                   "next_attempt_at": bindparam("b_next"), "updated_at": now}, SENDING)


def claim_tokens(session: Session) -> list[str | None]:
    """The distinct claims that hold `sending` rows (None: rows claimed without a token)."""
    return list(session.scalars(select(Delivery.claim_token).distinct()
                                .where(Delivery.status == SENDING)))


def release_claims(session: Session, tokens: Sequence[str], message: str,
                   now: datetime) -> list[tuple[int, str]]:
    """Give back the `sending` rows of dead claims for a retry due now; return (id, channel).

    Guarded by the token too: a row another worker claimed since is its, not ours to move.
    """
    if not tokens:
        return []
    rows = session.execute(
        update(Delivery)
        .where(Delivery.status == SENDING, Delivery.claim_token.in_(list(tokens)))
        .values(status=RETRY_WAIT, claim_token=None, error_code="worker",
                error_message=message, next_attempt_at=now, updated_at=now)
        .returning(Delivery.id, Delivery.channel),
        execution_options={"synchronize_session": False})
    return sorted((r[0], r[1]) for r in rows)


def schedule_redial(session: Session, delivery_id: int, provider_id: str | None, code: str,
                    message: str, next_at: datetime, now: datetime) -> bool:
    """Park a call that was not answered (busy, no-answer) for another try.

    A call is already `sent` when Twilio reports it unanswered, so this is the one
    `sent → retry_wait` transition; it applies to that call only (`provider_id`), so a late
    callback about an earlier attempt cannot park a newer one. Returns True when it moved.
    """
    guard = [Delivery.id == delivery_id, Delivery.status.in_((SENDING, SENT))]
    if provider_id:
        guard.append(or_(Delivery.provider_id == provider_id, Delivery.provider_id.is_(None)))
    result = session.execute(
        update(Delivery).where(*guard).values(
            status=RETRY_WAIT, error_code=code, error_message=mask_text(message),
            next_attempt_at=next_at, updated_at=now),
        execution_options={"synchronize_session": False})
    return result.rowcount == 1


def mark_skipped(session: Session, ids: Sequence[int], reason: str, now: datetime) -> None:
    """Skip deliveries that must not be sent (opted out, no address, channel not configured)."""
    if ids:
        session.execute(update(Delivery)
                        .where(Delivery.id.in_(ids), Delivery.status.in_((PENDING, SENDING)))
                        .values(status=SKIPPED, error_message=reason, updated_at=now))


def release(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Give claimed deliveries that were never handed over back to `pending`, their attempt
    uncounted: the batch gave way to emergency work and they are queued again."""
    if ids:
        session.execute(update(Delivery)
                        .where(Delivery.id.in_(ids), Delivery.status == SENDING)
                        .values(status=PENDING, attempts=Delivery.attempts - 1, updated_at=now))


def cancel_alert(session: Session, alert_id: int, now: datetime) -> int:
    """Cancel what of `alert_id` has not reached a provider (waiting for quiet hours to end
    included); return how many rows stopped."""
    result = session.execute(update(Delivery)
                             .where(Delivery.alert_id == alert_id,
                                    Delivery.status.in_((*CLAIMABLE, SCHEDULED)))
                             .values(status=CANCELLED, next_attempt_at=None, updated_at=now))
    return result.rowcount


def mark_cancelled(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Cancel deliveries of a cancelled alert that never reached a provider: claimed but
    withheld before hand-over (`sending`), or parked for a retry."""
    if ids:
        session.execute(update(Delivery)
                        .where(Delivery.id.in_(ids), Delivery.status.in_((SENDING, *CLAIMABLE)))
                        .values(status=CANCELLED, next_attempt_at=None, updated_at=now))


def apply_provider_status(session: Session, delivery: Delivery, status: str, now: datetime,
                          error_code: str | None = None, error_message: str | None = None) -> bool:
    """Apply a provider-reported status (already mapped to ours) if it moves the row forward.

    Returns True when the row changed. Delivered stays delivered; repeats change nothing.
    """
    if _RANK.get(status, -1) <= _RANK.get(delivery.status, 99):
        return False
    values = {"status": status, "updated_at": now}
    if status == DELIVERED:
        values["delivered_at"] = now
    if status == SENT and delivery.sent_at is None:
        values["sent_at"] = now
    if error_code:
        values["error_code"] = error_code
    if error_message:
        values["error_message"] = mask_text(error_message)
    # A Core statement built once per set of columns, run on the session's connection: callbacks
    # come by the thousand a second, and building an ORM update each time cost more than the
    # database work. The caller may hold a plain row rather than an ORM object.
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(b_id=delivery.id, b_from=delivery.status)
    result = session.connection().execute(_status_update(frozenset(values)), params)
    return result.rowcount == 1


@lru_cache(maxsize=32)
def _status_update(columns: frozenset[str]):
    table = Delivery.__table__
    return (update(table)
            .where(table.c.id == bindparam("b_id"), table.c.status == bindparam("b_from"))
            .values({name: bindparam(f"v_{name}") for name in sorted(columns)}))


def acknowledge(session: Session, delivery_id: int, now: datetime) -> bool:
    """Set acknowledged_at once; return True the first time."""
    result = session.execute(update(Delivery)
                             .where(Delivery.id == delivery_id, Delivery.acknowledged_at.is_(None))
                             .values(acknowledged_at=now, updated_at=now))
    return result.rowcount == 1


def release_scheduled(session: Session, now: datetime, live_alerts,
                      limit: int = 50_000) -> list[tuple[int, str]]:
    """Move up to `limit` `scheduled` rows whose quiet hours have ended (next_attempt_at <=
    now) and whose alert is among `live_alerts` (a select of alert ids) to `pending`; return
    (id, channel) of those moved, for the caller to queue. The ids are picked by a subquery
    (no parameter per row); guarded by status, so two sweeps move a row once."""
    due = (select(Delivery.id).where(Delivery.status == SCHEDULED, Delivery.next_attempt_at <= now,
                                     Delivery.alert_id.in_(live_alerts))
           .order_by(Delivery.id).limit(limit).scalar_subquery())
    rows = session.execute(
        update(Delivery).where(Delivery.id.in_(due), Delivery.status == SCHEDULED)
        .values(status=PENDING, next_attempt_at=None, queued_at=now, updated_at=now)
        .returning(Delivery.id, Delivery.channel),
        execution_options={"synchronize_session": False})
    return sorted((r[0], r[1]) for r in rows)


def expire_scheduled(session: Session, expired_alerts, reason: str, now: datetime) -> int:
    """Skip, with `reason`, the `scheduled` rows of `expired_alerts` (a select of alert ids):
    a warning that has run out is not sent when the night ends. Returns how many."""
    result = session.execute(
        update(Delivery).where(Delivery.status == SCHEDULED, Delivery.alert_id.in_(expired_alerts))
        .values(status=SKIPPED, error_message=reason, next_attempt_at=None, updated_at=now),
        execution_options={"synchronize_session": False})
    return result.rowcount


def due_for_retry(session: Session, now: datetime, limit: int = 10000) -> list[tuple[int, str]]:
    """Return (id, channel) of retry_wait rows whose time has come, oldest first."""
    rows = session.execute(select(Delivery.id, Delivery.channel)
                           .where(Delivery.status == RETRY_WAIT, Delivery.next_attempt_at <= now)
                           .order_by(Delivery.id).limit(limit))
    return [tuple(r) for r in rows]


_FILL_SID = (update(Delivery)
             .where(Delivery.id == bindparam("delivery_id"), Delivery.provider_id.is_(None))
             .values(provider_id=bindparam("sid")))
_ANSWERED_BY = (update(Delivery).where(Delivery.id == bindparam("delivery_id"))
                .values(answered_by=bindparam("answered_by")))


def fill_provider_id(session: Session, delivery_id: int, provider_id: str) -> None:
    """Bind the provider's id to a delivery that has none yet (a status callback can beat the
    worker's own record of it)."""
    session.connection().execute(_FILL_SID, {"delivery_id": delivery_id, "sid": provider_id})


def record_answered_by(session: Session, delivery_id: int, answered_by: str | None) -> None:
    """Keep who answered a call (Twilio's AnsweredBy: human, machine_end_beep, fax…)."""
    answered_by = (answered_by or "").strip()
    if answered_by:
        session.connection().execute(_ANSWERED_BY, {"delivery_id": delivery_id,
                                                    "answered_by": answered_by[:20]})
