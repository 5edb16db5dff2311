"""/api/v1/alerts: compose, edit, preview, approve, send, cancel, and follow every delivery."""
from __future__ import annotations

import logging

import redis
from flask import Response, abort, g, request
from sqlalchemy import func, select

from admin_ui import db, error_response, get_settings
from admin_ui.api import (READ_ALERTS, WRITE_PEOPLE, bp, choice_arg, json_body, now,
                          optional_json_body, page_args, paged, requires)
from admin_ui.api import sees_full_addresses
from admin_ui.csv_export import DELIVERY_COLUMNS as DELIVERY_FIELDS, audit_download, deliveries_csv
from notifier import alerts, audience, broadcast, deliveries, topics
from notifier.config import CHANNELS
from notifier.db import session_scope
from notifier.masking import mask_address
from notifier.models import Alert, Delivery, Zone
from notifier.schemas import CancelSchema, SendSchema, load_alert
from workers.queues import enqueue_cancel_notice, enqueue_fan_out

log = logging.getLogger(__name__)



def known_zones() -> set[str]:
    return set(db().scalars(select(Zone.code)))


def _alert_or_404(alert_id: int) -> Alert:
    alert = db().get(Alert, alert_id)
    if alert is None:
        abort(404, f"no alert {alert_id}")
    return alert


def _enqueue(alert_id: int) -> Response | None:
    """Hand the fan-out to Redis after the commit, so the worker finds the alert sending.

    If Redis is down the alert stays `sending` in the database and `resume` requeues it.
    """
    db().commit()
    try:
        enqueue_fan_out(get_settings(), alert_id)
    except redis.RedisError as exc:
        log.error("alert_id=%s is sending but could not be queued: %s", alert_id, exc)
        return error_response(503, "the alert is marked sending but the queue is unreachable; "
                                   "`python -m notifier resume` will hand it over")
    return None


@bp.post("/alerts")
@requires(*WRITE_PEOPLE)
def create_alert():
    """201 {"id", "state": "draft", "awaiting_approval", "approval": {…}, …}; 422 with field
    messages (errors.area for bad areas). With "gsm_safe": true, also "plain_punctuation":
    {tag: [{"from", "to", "count", "codepoint"}]}, the texts rewritten ({} for none)."""
    settings = get_settings()
    data = load_alert(json_body(), settings, known_zones(), now=now(),
                      known_topics=topics.known_codes(db()))
    session = db()
    alert = alerts.create_alert(session, data, g.actor, now())
    out = alerts.alert_dict(session, alert, stats=False, settings=settings)
    if "plain_punctuation" in data:
        out["plain_punctuation"] = alert.plain_punctuation
    return out, 201


@bp.post("/alerts/preview")
@requires(*WRITE_PEOPLE)
def preview_alert():
    """Who the body would reach and what the SMS would cost; nothing is stored."""
    settings = get_settings()
    body = json_body()
    # Count in a read-only session: on SQLite a long count must not hold the write lock.
    db().commit()
    with session_scope(settings.database_url, readonly=True) as session:
        data = load_alert(body, settings, set(session.scalars(select(Zone.code))), now=now(),
                          known_topics=topics.known_codes(session))
        return audience.preview(session, alerts.transient_alert(data), settings, now())


@bp.patch("/alerts/<id:alert_id>")
@requires(*WRITE_PEOPLE)
def edit_alert(alert_id: int):
    """200 the draft with the body's fields changed (validated as on create); the approval, if
    any, is cleared. 409 when it is not a draft."""
    session = db()
    settings = get_settings()
    changes = json_body()
    alert = alerts.edit_draft(session, alert_id, changes, g.actor, now(), settings)
    out = alerts.alert_dict(session, alert, stats=False, settings=settings)
    if isinstance(changes, dict) and changes.get("gsm_safe") is True:
        out["plain_punctuation"] = alert.plain_punctuation  # as on create
    return out


@bp.post("/alerts/<id:alert_id>/approve")
@requires(*WRITE_PEOPLE)
def approve_alert(alert_id: int):
    """200 {"approved_by", "approved_at"}: a second person's approval of the draft as it is;
    403 for its author, 409 when it is not a draft."""
    session = db()
    alert = alerts.approve(session, alert_id, g.actor, g.token.role, now())
    return alerts.alert_dict(session, alert, stats=False)["approval"]


@bp.post("/alerts/<id:alert_id>/send")
@requires(*WRITE_PEOPLE)
def send_alert(alert_id: int):
    """202 {"state": "sending"} and one fan-out job; 409 when it was sent already,
    {"error": "approval required", "approval": {…}} when the two-person rule holds it, or
    {"error", "machine_translated": [tags]} for an Actual alert with machine-translated
    messages sent without {"accept_machine_translation": true}."""
    body = SendSchema().load(optional_json_body())
    alert = alerts.start_sending(db(), alert_id, g.actor, now(), get_settings(),
                                 accept_machine_translation=body["accept_machine_translation"])
    failure = _enqueue(alert_id)
    if failure is not None:
        return failure
    return {"id": alert_id, "state": alert.state}, 202


@bp.post("/alerts/<id:alert_id>/cancel")
@requires(*WRITE_PEOPLE)
def cancel_alert(alert_id: int):
    """200: undelivered work stops; an optional {"message": {...}} makes a new alert.

    `message` is {language: text} or a full alert body; `msg_type` Cancel (default) or Update.
    The response is the cancelled alert, plus `follow_up` (the new alert, with its `approval`)
    when one was made: `sending`, or a `draft` when the two-person rule holds it.
    """
    body = CancelSchema().load(optional_json_body())
    session = db()
    settings = get_settings()
    alert, follow_up = alerts.cancel_alert(
        session, alert_id, g.actor, now(), message=body["message"], msg_type=body["msg_type"],
        settings=settings, accept_machine_translation=body["accept_machine_translation"])
    result = alerts.alert_dict(session, alert, stats=False, settings=settings,
                               approval_in_full=False)
    result["follow_up"] = None
    if broadcast.announces_cancel(alert, settings):
        session.commit()  # the partners' cancel notice reads the committed cancel
        enqueue_cancel_notice(settings, alert.id)
    if follow_up is not None:
        result["follow_up"] = alerts.alert_dict(session, follow_up, stats=False,
                                                settings=settings)
        if follow_up.state == alerts.SENDING:
            failure = _enqueue(follow_up.id)
            if failure is not None:
                return failure
    return result


@bp.get("/alerts/<id:alert_id>")
@requires(*READ_ALERTS)
def get_alert(alert_id: int):
    """The alert, its live `stats` (the numbers the dispatcher page shows) and its `approval`."""
    return alerts.alert_dict(db(), _alert_or_404(alert_id), stats=True, settings=get_settings())


@bp.get("/alerts")
@requires(*READ_ALERTS)
def list_alerts():
    """Paged alerts, newest first; `state` filters (draft, sending, sent, cancelled).

    Items carry `approval` in its cheap form (who approved) and `awaiting_approval`: a reach
    is counted only for Actual drafts without an approval, the ones that may be waiting.
    """
    page, per_page = page_args()
    state = choice_arg("state", alerts.STATES)
    session = db()
    settings = get_settings()
    items, total = alerts.list_alerts(session, page=page, per_page=per_page, state=state)
    return paged([alerts.alert_dict(session, a, stats=False, settings=settings,
                                    approval_in_full=False) for a in items],
                 page, per_page, total)


def _delivery_filter(alert_id: int):
    query = select(Delivery).where(Delivery.alert_id == alert_id)
    channel = choice_arg("channel", CHANNELS)
    if channel:
        query = query.where(Delivery.channel == channel)
    status = choice_arg("status", deliveries.STATUSES)
    if status:
        query = query.where(Delivery.status == status)
    return query


def delivery_dict(d: Delivery, full: bool = True) -> dict:
    """The API shape of a delivery; `full=False` (auditors) masks the address."""
    out = {"id": d.id}
    for name in DELIVERY_FIELDS:
        value = getattr(d, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    if not full:
        out["address"] = mask_address(d.address) or None
    return out


@bp.get("/alerts/<id:alert_id>/deliveries")
@requires(*READ_ALERTS)
def list_deliveries(alert_id: int):
    """Paged deliveries of an alert, filtered by `channel` and `status`."""
    _alert_or_404(alert_id)
    page, per_page = page_args()
    query = _delivery_filter(alert_id)
    session = db()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Delivery.id).offset((page - 1) * per_page).limit(per_page))
    full = sees_full_addresses()
    return paged([delivery_dict(d, full) for d in rows], page, per_page, total)


@bp.get("/alerts/<id:alert_id>/deliveries.csv")
@requires(*READ_ALERTS)
def export_deliveries(alert_id: int):
    """Every delivery of an alert as formula-safe CSV, streamed in keyset-paged chunks."""
    _alert_or_404(alert_id)
    query = _delivery_filter(alert_id)
    masked = not sees_full_addresses()
    audit_download(get_settings().database_url, g.actor, "deliveries", f"alert:{alert_id}",
                   {"channel": request.args.get("channel"), "status": request.args.get("status"),
                    "masked": masked}, now())
    return deliveries_csv(get_settings().database_url, query, f"alert-{alert_id}-deliveries.csv",
                          masked=masked)
