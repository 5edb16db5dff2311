"""/api/v1/subscribers: create, read, change, erase, search and import residents."""
from __future__ import annotations

from flask import abort, request

from admin_ui import db, get_settings
from admin_ui.api import (READ_SUBSCRIBERS, WRITE_PEOPLE, bp, json_body, now, page_args, paged,
                          record, requires)
from notifier import subscriptions
from notifier.errors import InvalidInput
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
    sub = subscriptions.create_subscriber(session, data, now())
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
    sub = subscriptions.update_subscriber(session, sub, data, now()) or sub
    record("subscriber.update", f"subscriber:{sub.id}", {"fields": sorted(data)})
    return subscriptions.subscriber_dict(session, sub)


@bp.delete("/subscribers/<id:subscriber_id>")
@requires(*WRITE_PEOPLE)
def erase_subscriber(subscriber_id: int):
    """204: personal data erased; delivery counts stay, anonymous."""
    sub = _subscriber_or_404(subscriber_id)
    subscriptions.erase_subscriber(db(), sub, now())
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
    """A CSV body or a JSON list → {"created", "updated", "rejected"}; bad rows never stop good ones."""
    mimetype = request.mimetype
    if mimetype in CSV_TYPES:
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput({"_schema": ["The CSV file must be UTF-8 text."]}) from None
        rows = subscriptions.parse_csv(text)
        source = "csv"
    elif request.is_json:
        rows = json_body(list)
        source = "json"
    else:
        abort(415, "send text/csv or a JSON list (application/json)")
    session = db()
    result = subscriptions.import_subscribers(session, rows, get_settings(), now())
    record("subscriber.import", None,
           {"source": source, "created": result["created"], "updated": result["updated"],
            "rejected": len(result["rejected"])})
    return result
