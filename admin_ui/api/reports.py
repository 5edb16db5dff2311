"""GET /api/v1/alerts/<id>/report: the after-action report for auditors and the public record."""
from __future__ import annotations

from flask import abort

from admin_ui import db
from admin_ui.api import READ_ALERTS, bp, now, requires
from channels.error_words import describe
from notifier import reports
from notifier.models import Alert


def alert_report(alert_id: int) -> dict:
    """The report of alert `alert_id` as of this request (404 when there is no such alert)."""
    alert = db().get(Alert, alert_id)
    if alert is None:
        abort(404, f"no alert {alert_id}")
    return reports.build(db(), alert, now(), describe)


@bp.get("/alerts/<id:alert_id>/report")
@requires(*READ_ALERTS)
def get_report(alert_id: int):
    """The after-action report: timeline, hand-over and delivery over time, failures, reach.

    Read from the deliveries as they are now: a report of an alert still sending grows.
    No address appears in it; actors are staff accounts and API tokens.
    """
    return alert_report(alert_id)
