"""`/api/v1/alerts/<id>/cap.xml`: an alert as a CAP 1.2 document; `/alerts/import-cap`: one in."""
from __future__ import annotations

from flask import abort, g, request

from admin_ui import db, doc_cache, error_response, errors_response, get_settings
from admin_ui.api import READ_ALERTS, WRITE_PEOPLE, bp, now, requires
from admin_ui.feeds import cap_document
from notifier import alerts, cap_import, cap_read
from notifier.errors import DocumentTooLarge, UnreadableDocument
from notifier.models import Alert

XML_TYPES = ("application/xml", "text/xml", "application/cap+xml")


@bp.get("/alerts/<id:alert_id>/cap.xml")
@requires(*READ_ALERTS)
def alert_cap(alert_id: int):
    """The alert (any state or status: drafts too, for review) as CAP 1.2 XML."""
    alert = db().get(Alert, alert_id)
    if alert is None:
        abort(404, f"no alert {alert_id}")
    moment = now()
    return doc_cache.conditional(cap_document(db(), alert, moment), moment, public=False)


@bp.post("/alerts/import-cap")
@requires(*WRITE_PEOPLE)
def import_cap():
    """201 a new draft from a CAP 1.2 document (the alert as POST /alerts answers, plus
    `warnings`: what to change before sending, geocodes that name no zone); 400 not XML or a
    DTD/entities, 413 over 1 MB, 415 not XML, 422 XML that is not CAP 1.2. Nothing is sent."""
    if request.mimetype not in XML_TYPES:
        return error_response(415, f"send the CAP document as {XML_TYPES[0]}")
    limit = cap_read.MAX_BYTES
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, f"the CAP document is larger than {limit // 1024} KB")
    xml = request.stream.read(limit + 1)  # a body without a length is cut one byte over
    settings = get_settings()
    session = db()
    try:
        imported = cap_import.import_cap(session, xml, settings, g.actor, now())
    except UnreadableDocument as exc:
        return errors_response(exc.errors, 400)
    except DocumentTooLarge as exc:
        return errors_response(exc.errors, 413)
    out = alerts.alert_dict(session, imported.alert, stats=False, settings=settings)
    out["warnings"] = imported.warnings
    return out, 201
