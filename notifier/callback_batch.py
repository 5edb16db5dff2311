"""Status callbacks applied by the batch: one UPDATE … FROM (VALUES …) moves every plain one.

The webhook only verifies and queues a compact record (`encode`); the applier
(workers/callback_apply.py) reads a batch back (`decode`) and calls `apply_batch`. The rules are
notifier.provider_callbacks' (which delivery a callback names, rank-forward only, an older
attempt's callback ignored): a plain status report on a delivery already bound to its sid goes
into the one set-based UPDATE, guarded by rank in SQL; everything else (an unbound row, a call
to dial again, who answered, a carrier opt-out) goes through `apply_callback` one by one.
Applying a batch twice changes nothing the second time.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from notifier import deliveries, provider_callbacks
from notifier.masking import mask_text
from notifier.models import Delivery
from notifier.provider_callbacks import FAILOVER_STATUSES, MAX_ID, StatusReport

log = logging.getLogger(__name__)

_T = Delivery.__table__
# A row in a status the ranking does not know (skipped, cancelled, scheduled) never moves.
_UNRANKED = 99


@dataclass(frozen=True)
class Callback:
    """One queued callback: our `d` parameter, what the provider said, and when it said it."""
    delivery_ref: str
    report: StatusReport
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """A delivery a batch changed, with what is left to do for it once committed."""
    delivery_id: int
    alert_id: int
    channel: str
    status: str | None
    error_code: str | None
    redial_in: timedelta | None = None
    fail_over: bool = False


def encode(delivery_ref: str, report: StatusReport, at: datetime) -> bytes:
    """The compact record the webhook queues (a JSON list; empty fields as empty strings)."""
    flags = (1 if report.unanswered else 0) | (2 if report.opt_out else 0)
    return json.dumps([delivery_ref, report.provider_id, report.status or "", report.word,
                       report.error_code or "", report.error_message or "", flags,
                       report.answered_by or "", at.timestamp()],
                      separators=(",", ":")).encode()


def decode(record: bytes) -> Callback:
    """The Callback in `record`; ValueError when it is not one of ours."""
    try:
        ref, sid, status, word, code, message, flags, answered_by, at = json.loads(record)
        when = datetime.fromtimestamp(float(at), timezone.utc)
        report = StatusReport(provider_id=str(sid), status=status or None, word=str(word),
                              error_code=code or None, error_message=message or None,
                              unanswered=bool(int(flags) & 1), opt_out=bool(int(flags) & 2),
                              answered_by=answered_by or None)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a queued callback: {exc}") from None
    return Callback(str(ref), report, when)


def _plain(callback: Callback) -> bool:
    report = callback.report
    return bool(report.provider_id) and not (report.unanswered or report.opt_out
                                             or report.answered_by)


def _rank(status: str | None) -> int:
    return deliveries._RANK.get(status, -1) if status else -1


def apply_batch(session, settings, callbacks: list[Callback]) -> list[Outcome]:
    """Apply `callbacks` in `session` (not committed); return the deliveries that changed.

    Several callbacks about one message collapse to the highest-ranked one (the rank rule
    would refuse the others anyway); ties keep the first to arrive.
    """
    plain = [c for c in callbacks if _plain(c)]
    one_by_one = [c for c in callbacks if not _plain(c) and c.report.provider_id]
    targets = _targets(session, plain)
    best: dict[tuple[int, str], Callback] = {}
    for callback, key in targets:
        if key is None:
            continue
        held = best.get(key)
        if held is None or _rank(callback.report.status) > _rank(held.report.status):
            best[key] = callback
    outcomes = _update(session, best)
    changed = {o.delivery_id for o in outcomes}
    # The rows the UPDATE could not take: one not yet bound to a sid needs find_delivery's
    # checks (does another row hold that sid?) before taking it.
    missed = {key[0]: c for key, c in best.items() if key[0] not in changed}
    if missed:
        unbound = set(session.connection().execute(
            select(_T.c.id).where(_T.c.id.in_(list(missed)), _T.c.provider_id.is_(None))).scalars())
        one_by_one += [c for delivery_id, c in missed.items() if delivery_id in unbound]
    for callback in one_by_one:
        outcome = _one(session, settings, callback)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _targets(session, plain: list[Callback]) -> list[tuple[Callback, tuple[int, str] | None]]:
    """Each plain callback with the (delivery id, sid) it names; None: no delivery of ours."""
    by_sid = {c.report.provider_id for c in plain if not _ref_id(c.delivery_ref)}
    held: dict[str, int] = {}
    if by_sid:
        rows = session.connection().execute(
            select(_T.c.provider_id, func.min(_T.c.id)).where(_T.c.provider_id.in_(list(by_sid)))
            .group_by(_T.c.provider_id))
        held = {sid: delivery_id for sid, delivery_id in rows}
    found = []
    for c in plain:
        delivery_id = _ref_id(c.delivery_ref)
        if delivery_id is None:  # no `d`, or one that is no id: by sid, as find_delivery does
            delivery_id = held.get(c.report.provider_id)
        found.append((c, None if delivery_id is None else (delivery_id, c.report.provider_id)))
    return found


def _ref_id(ref: str) -> int | None:
    ref = (ref or "").strip()
    return int(ref) if ref.isdigit() and int(ref) <= MAX_ID else None


def _update(session, best: dict[tuple[int, str], Callback]) -> list[Outcome]:
    """One UPDATE … FROM (VALUES …): each row bound to the callback's sid moves forward by rank."""
    connection = session.connection()
    dialect = connection.dialect
    stamp = _T.c.updated_at.type.bind_processor(dialect) or (lambda value: value)
    rows = [(delivery_id, sid, c.report.status, _rank(c.report.status), c.report.error_code,
             mask_text(c.report.error_message) if c.report.error_message else None, stamp(c.at))
            for (delivery_id, sid), c in best.items() if c.report.status]
    if not rows:
        return []
    # Written by hand and run as the driver's own statement: the compiled SQLAlchemy
    # construct cost more per batch than the database's work, and SQLite has no column list
    # after `AS v` (VALUES' columns are column1…column7 on SQLite and PostgreSQL alike).
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    row_sql = "(" + ", ".join([mark] * 7) + ")"
    sql = _UPDATE_SQL.format(rows=", ".join([row_sql] * len(rows)),
                             at="CAST(column7 AS TIMESTAMP WITH TIME ZONE)"
                             if dialect.name == "postgresql" else "column7")
    by_id = {delivery_id: c for (delivery_id, _), c in best.items()}
    outcomes = []
    params = tuple(value for row in rows for value in row)
    for delivery_id, alert_id, channel, status in connection.exec_driver_sql(sql, params):
        code = by_id[delivery_id].report.error_code
        outcomes.append(Outcome(delivery_id, alert_id, channel, status, code,
                                fail_over=status in FAILOVER_STATUSES))
    return outcomes


_RANK_SQL = ("CASE deliveries.status "
             + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in deliveries._RANK.items())
             + f" ELSE {_UNRANKED} END")
_UPDATE_SQL = (
    "UPDATE deliveries SET status = v.status, updated_at = v.at, "
    f"delivered_at = CASE WHEN v.status = '{deliveries.DELIVERED}' THEN v.at "
    "ELSE deliveries.delivered_at END, "
    f"sent_at = CASE WHEN v.status = '{deliveries.SENT}' AND deliveries.sent_at IS NULL "
    "THEN v.at ELSE deliveries.sent_at END, "
    "error_code = COALESCE(v.error_code, deliveries.error_code), "
    "error_message = COALESCE(v.error_message, deliveries.error_message) "
    "FROM (SELECT column1 AS id, column2 AS sid, column3 AS status, column4 AS rank, "
    "column5 AS error_code, column6 AS error_message, {at} AS at "
    "FROM (VALUES {rows}) AS x) AS v "
    f"WHERE deliveries.id = v.id AND deliveries.provider_id = v.sid AND {_RANK_SQL} < v.rank "
    "RETURNING deliveries.id, deliveries.alert_id, deliveries.channel, deliveries.status")


def _one(session, settings, callback: Callback) -> Outcome | None:
    """A callback the batch cannot take, by provider_callbacks' own rules; None: nothing moved."""
    report = callback.report
    applied = provider_callbacks.apply_callback(session, settings, callback.delivery_ref, report,
                                                callback.at)
    row = applied.delivery
    if row is None or not (applied.changed or applied.redial_in is not None):
        return None
    return Outcome(row.id, row.alert_id, row.channel, report.status, report.error_code,
                   redial_in=applied.redial_in, fail_over=applied.fail_over)
