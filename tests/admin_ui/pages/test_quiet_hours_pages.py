"""Quiet hours on the pages: the preview says how many messages wait and until when; the
alert page counts them as waiting for quiet hours to end."""
from __future__ import annotations

from sqlalchemy import update

from notifier.db import session_scope
from notifier.models import Subscriber
from tests.admin_ui.api.test_quiet_hours_api import window_around_now
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber
from tests.admin_ui.pages.test_alerts import compose, residents  # noqa: F401


def test_the_preview_page_says_how_many_wait_and_until_when(signed_in, settings, residents):
    window, end = window_around_now()
    with session_scope(settings.database_url) as session:
        session.execute(update(Subscriber).values(quiet_hours=window))
    client = signed_in("dispatcher")
    alert_id = compose(client, severity="Minor", urgency="Expected")
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    said = html.split('data-testid="preview-scheduled"')[1].split("</p>")[0]
    assert "2 message(s) will wait" in said and end.strftime("%Y-%m-%d %H:%M") in said


def test_a_preview_with_nothing_waiting_says_nothing_of_quiet_hours(signed_in, settings, residents):
    window, _ = window_around_now()
    with session_scope(settings.database_url) as session:
        session.execute(update(Subscriber).values(quiet_hours=window))
    client = signed_in("dispatcher")
    alert_id = compose(client, severity="Severe", urgency="Immediate")
    assert 'data-testid="preview-scheduled"' not in client.get(
        f"/alerts/{alert_id}/preview").get_data(as_text=True)


def test_the_alert_page_counts_deliveries_waiting_for_quiet_hours(signed_in, settings):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, severity="Minor")
        make_delivery(session, alert, make_subscriber(session), status="scheduled", sent_at=None)
        alert_id = alert.id
    html = signed_in("dispatcher").get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert html.split('data-testid="count-sms-scheduled"')[1].split("</td>")[0].endswith(">1")
    assert "Waiting for quiet hours to end" in html
