"""GET /api/v1/audit: the hash-chained log of every change, paged, newest first; and its check."""
from __future__ import annotations

from flask import request

from admin_ui import db
from admin_ui.api import READ_AUDIT, bp, page_args, paged, requires
from notifier import audit

FILTERS = ("actor", "action", "object")


@bp.get("/audit")
@requires(*READ_AUDIT)
def list_audit_events():
    """Paged events {id, at, actor, action, object, details, hash}; filter by actor/action/object."""
    page, per_page = page_args()
    filters = {name: request.args.get(name, "").strip() or None for name in FILTERS}
    events, total = audit.list_events(db(), page=page, per_page=per_page, **filters)
    return paged([audit.event_dict(e) for e in events], page, per_page, total)


@bp.get("/audit/verify")
@requires(*READ_AUDIT)
def verify_audit_chain():
    """{"ok": bool, "first_bad_id": id or null}: every hash and every seal (AUDIT_KEY) checked."""
    ok, first_bad = audit.verify_chain(db())
    return {"ok": ok, "first_bad_id": first_bad}
