"""`/api/v1/alerts/<id>/cap.xml`: an alert as a CAP 1.2 document."""
from __future__ import annotations

from flask import abort

from admin_ui import db, doc_cache
from admin_ui.api import READ_ALERTS, bp, now, requires
from admin_ui.feeds import cap_document
from notifier.models import Alert


@bp.get("/alerts/<id:alert_id>/cap.xml")
@requires(*READ_ALERTS)
def alert_cap(alert_id: int):
    """The alert (any state or status: drafts too, for review) as CAP 1.2 XML."""
    alert = db().get(Alert, alert_id)
    if alert is None:
        abort(404, f"no alert {alert_id}")
    moment = now()
    return doc_cache.conditional(cap_document(db(), alert, moment), moment, public=False)
