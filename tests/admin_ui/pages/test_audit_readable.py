"""What leaves is audited (every CSV download of residents' data or the log itself), and the
audit page reads as words: actions named, objects linked, details as labelled lines."""
from __future__ import annotations

from sqlalchemy import select

from notifier import alerts
from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.admin_ui.conftest import make_alert
from tests.admin_ui.pages.test_live_page import add_deliveries


def events(settings, prefix="download."):
    with session_scope(settings.database_url, readonly=True) as session:
        return session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.object,
                                      AuditEvent.details)
                               .where(AuditEvent.action.like(prefix + "%"))
                               .order_by(AuditEvent.id)).all()


def test_every_download_is_an_audit_event(signed_in, settings, client, auth):
    alert_id = add_deliveries(settings, {"state": "sent"}, {"status": "delivered"})
    page = signed_in("dispatcher")
    assert page.get(f"/alerts/{alert_id}/deliveries.csv?status=delivered").status_code == 200
    assert signed_in("auditor").get("/audit.csv?action=alert.send").status_code == 200
    for path in (f"/api/v1/alerts/{alert_id}/deliveries.csv", "/api/v1/consents.csv",
                 "/api/v1/opt-outs.csv"):
        assert client.get(path, headers=auth("auditor")).status_code == 200, path
    rows = [(actor.split(":")[0], action, obj, details) for actor, action, obj, details
            in events(settings)]
    assert rows == [
        ("user", "download.deliveries", f"alert:{alert_id}", {"status": "delivered", "masked": False}),
        ("user", "download.audit", None, {"action": "alert.send"}),
        ("token", "download.deliveries", f"alert:{alert_id}", {"masked": True}),
        ("token", "download.consents", None, {}),
        ("token", "download.opt_outs", None, {})]


def test_the_audit_page_names_actions_links_objects_and_labels_details(signed_in, settings):
    with session_scope(settings.database_url) as session:
        alert_id = make_alert(session, state="sent").id
    with session_scope(settings.database_url) as session:
        alerts.cancel_alert(session, alert_id, "user:dana", alerts_now())
    html = signed_in("auditor").get("/audit?action=alert.cancel").get_data(as_text=True)
    row = html.split('data-testid="audit-table"')[1].split("</table>")[0]
    assert 'data-testid="event-action">Stopped by hand<' in row
    assert f'<a href="/alerts/{alert_id}" data-testid="event-object-link">alert:{alert_id}</a>' in row
    assert "<dt>Deliveries stopped</dt><dd>0</dd>" in row
    assert "{&#34;" not in row and '{"' not in row  # no raw JSON


def alerts_now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
