"""/api/v1/subscribers: create, read, change, erase, search and import residents."""
from __future__ import annotations

import io

from flask import abort, request

from admin_ui import db, get_settings
from admin_ui.api import (READ_SUBSCRIBERS, WRITE_PEOPLE, bp, json_body, now, page_args, paged,
                          record, requires)
from notifier import erasure, subscriber_import, subscriptions
from notifier.models import Subscriber
from notifier.schemas import make_subscriber_schema

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


def _subscriber_or_404(subscriber_id: int) -> Subscriber:
    sub = db().get(Subscriber, subscriber_id)
    if sub is None:
        abort(404, f"no subscriber {subscriber_id}")
    return sub


@bp.post("/subscribers")
@requires(*WRITE_PEOPLE)
def create_subscriber():
    """201 with the subscriber; 409 {"error", "id"} for a known phone/email; 422 on bad fields."""
    data = make_subscriber_schema(get_settings()).load(json_body())
    session = db()
    sub = subscriptions.create_subscriber(session, data, now(), get_settings())
    # Audit details name the fields only: the log is permanent, personal data must be erasable.
    record("subscriber.create", f"subscriber:{sub.id}", {"fields": sorted(data)})
    return subscriptions.subscriber_dict(session, sub), 201


@bp.get("/subscribers/<id:subscriber_id>")
@requires(*READ_SUBSCRIBERS)
def get_subscriber(subscriber_id: int):
    return subscriptions.subscriber_dict(db(), _subscriber_or_404(subscriber_id))


@bp.patch("/subscribers/<id:subscriber_id>")
@requires(*WRITE_PEOPLE)
def update_subscriber(subscriber_id: int):
    """200 with the changed subscriber; only the fields given change."""
    sub = _subscriber_or_404(subscriber_id)
    data = make_subscriber_schema(get_settings(), partial=True).load(json_body())
    session = db()
    sub = subscriptions.update_subscriber(session, sub, data, now(), get_settings()) or sub
    record("subscriber.update", f"subscriber:{sub.id}", {"fields": sorted(data)})
    return subscriptions.subscriber_dict(session, sub)


@bp.delete("/subscribers/<id:subscriber_id>")
@requires(*WRITE_PEOPLE)
def erase_subscriber(subscriber_id: int):
    """204: personal data erased; delivery counts stay, anonymous."""
    sub = _subscriber_or_404(subscriber_id)
    erasure.erase_subscriber(db(), get_settings(), sub, now())
    record("subscriber.erase", f"subscriber:{subscriber_id}")
    return "", 204


@bp.get("/subscribers")
@requires(*READ_SUBSCRIBERS)
def list_subscribers():
    """Paged search: `q` (part of phone, email or name), `zone`, `language`."""
    page, per_page = page_args()
    session = db()
    items, total = subscriptions.search_subscribers(
        session, q=request.args.get("q", "").strip() or None,
        zone=request.args.get("zone", "").strip() or None,
        language=request.args.get("language", "").strip() or None,
        page=page, per_page=per_page)
    return paged([subscriptions.subscriber_dict(session, s) for s in items], page, per_page, total)


@bp.post("/subscribers/import")
@requires(*WRITE_PEOPLE)
def import_subscribers():
    """A CSV body or a JSON list → {"created", "updated", "rejected", "rejected_total"}; bad rows
    never stop good ones. The CSV is read as a stream; `rejected` lists the first 1,000."""
    mimetype = request.mimetype
    if mimetype in CSV_TYPES:
        # Excel writes a BOM; utf-8-sig drops it. Undecodable text is a 422 while reading.
        rows = subscriber_import.iter_csv(
            io.TextIOWrapper(request.stream, encoding="utf-8-sig", newline=""))
        source = "csv"
    elif request.is_json:
        rows = json_body(list)
        source = "json"
    else:
        abort(415, "send text/csv or a JSON list (application/json)")
    session = db()
    result = subscriber_import.import_all(session, rows, get_settings(), now())
    record("subscriber.import", None,
           {"source": source, "created": result["created"], "updated": result["updated"],
            "rejected": result["rejected_total"]})
    return result
