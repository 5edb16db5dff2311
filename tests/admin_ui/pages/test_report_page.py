"""The report page: who may open it, what it shows, and the alert page's link to it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.db import session_scope
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber


@pytest.fixture
def alert_id(settings) -> int:
    with session_scope(settings.database_url) as s:
        alert = make_alert(s, state="sent", sent_at=NOW, fanned_out_at=NOW)
        ana = make_subscriber(s)
        make_delivery(s, alert, ana, sent_at=NOW + timedelta(seconds=4), status="failed",
                      error_code="21211", error_message="+16175550100 is not valid")
        return alert.id


@pytest.mark.parametrize("role", ["auditor", "dispatcher", "admin"])
def test_staff_who_read_alerts_open_the_report(signed_in, alert_id, role):
    html = signed_in(role).get(f"/alerts/{alert_id}/report").get_data(as_text=True)
    assert 'data-testid="report-chart"' in html and "<title id=\"handover-title\">" in html
    assert "the phone number is not valid" in html
    assert "+16175550100" not in html and "5550100" not in html
    assert "style=" not in html  # the CSP allows no inline style


def test_the_alert_page_links_to_its_report(signed_in, alert_id):
    html = signed_in("auditor").get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert f'href="/alerts/{alert_id}/report"' in html


def test_an_unknown_alert_has_no_report_page(signed_in):
    assert signed_in("auditor").get("/alerts/999/report").status_code == 404


def test_a_draft_without_deliveries_gets_a_report_without_a_chart(signed_in, settings):
    with session_scope(settings.database_url) as s:
        draft = make_alert(s, state="draft").id
    response = signed_in("auditor").get(f"/alerts/{draft}/report")
    assert response.status_code == 200
    assert 'data-testid="report-chart-empty"' in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, alert_id):
    response = client.get(f"/alerts/{alert_id}/report")
    assert response.status_code == 302 and "/login" in response.location
