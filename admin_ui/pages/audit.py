"""The audit log page: filtered, paged events, a CSV export and a check of the hash chain."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.csv_export import audit_download, iter_csv
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from notifier import audit
from notifier.db import session_scope
from notifier.models import AuditEvent

bp = page_blueprint("audit")

READERS = ("auditor",)
PER_PAGE = 50
CSV_CHUNK = 2000
CSV_COLUMNS = ("id", "at", "actor", "action", "object", "details", "hash")
TEXT_FILTERS = ("actor", "action", "object")


def _day(raw: str, field: str, errors: dict) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = [_("Give a date as YYYY-MM-DD.")]
        return None


def read_filters(args) -> tuple[dict, dict, dict]:
    """(the filters as typed, the keyword arguments of `audit.select_events`, field errors).

    Dates are whole days in the agency's time zone: from the start of `from` to the end of `to`.
    """
    values = {name: (args.get(name) or "").strip()[:120] for name in TEXT_FILTERS}
    values.update({name: (args.get(name) or "").strip()[:10] for name in ("from", "to")})
    errors: dict = {}
    first, last = _day(values["from"], "from", errors), _day(values["to"], "to", errors)
    if first and last and first > last:
        errors["to"] = [_("The end date is before the start date.")]
    zone = ZoneInfo(get_settings().timezone)

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)

    query = {name: values[name] or None for name in TEXT_FILTERS}
    query["since"] = start_of(first) if first else None
    query["until"] = start_of(last + timedelta(days=1)) if last else None
    return values, query, errors


def details_text(details) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _page(verify: dict | None = None):
    values, query, errors = read_filters(request.values)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = db()
    events, total = ([], 0) if errors else audit.list_events(session, page, PER_PAGE, **query)
    links = {k: v for k, v in values.items() if v}
    return render_template(
        "audit/index.html", events=events, total=total, page=page, per_page=PER_PAGE,
        values=values, links=links, errors=errors, actions=audit.actions(session),
        details_text=details_text, verify=verify), 422 if errors else 200


@bp.get("/audit")
@login_required(*READERS)
def index():
    """Events newest first, with filters by actor, action, object and days."""
    return _page()


@bp.post("/audit/verify")
@login_required(*READERS)
def verify():
    """Recompute the whole hash chain and show the result (and record that it was checked)."""
    session = db()
    ok, first_bad = audit.verify_chain(session)
    audit.record(session, f"user:{current_user().name}", "audit.verify", None,
                 {"ok": ok, "first_bad_id": first_bad}, now())
    return _page({"ok": ok, "first_bad": first_bad})


@bp.get("/audit.csv")
@login_required(*READERS)
def export_csv():
    """The filtered events as formula-safe CSV, oldest first, read in keyset-paged chunks."""
    values, query, errors = read_filters(request.args)
    if errors:
        return _page()
    select_query = audit.select_events(**query)
    database_url = get_settings().database_url
    audit_download(database_url, f"user:{current_user().name}", "audit", None,
                   {k: str(v) for k, v in values.items() if v}, now())

    def rows():
        last_id = 0
        while True:
            # A session per chunk: none is held open across a slow download.
            with session_scope(database_url, readonly=True) as session:
                chunk = session.scalars(select_query.where(AuditEvent.id > last_id)
                                        .order_by(AuditEvent.id).limit(CSV_CHUNK)).all()
                lines = [(e.id, audit.event_dict(e)["at"], e.actor, e.action, e.object,
                          details_text(e.details), e.hash) for e in chunk]
            if not lines:
                return
            yield from lines
            last_id = lines[-1][0]

    stamp = now().strftime("%Y%m%d-%H%M")
    return Response(iter_csv(CSV_COLUMNS, rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
