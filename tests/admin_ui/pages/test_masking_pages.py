"""Pages show provider error texts masked, and give auditors a masked deliveries CSV."""
from __future__ import annotations

from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber


def _alert(settings) -> int:
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, channels=["email"])
        sub = make_subscriber(session, phone=None, email="zeb@example.org", channels=["email"])
        # Stored before error texts were masked on the way in.
        make_delivery(session, alert, sub, channel="email", address="zeb@example.org",
                      status="failed", error_code="550",
                      error_message="550 <zeb@example.org> unknown; call 617-555-0100")
        return alert.id


def test_the_alert_page_masks_error_texts(signed_in, settings):
    alert_id = _alert(settings)
    client = signed_in("dispatcher")
    for url in ("/dashboard", f"/alerts/{alert_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "zeb@" not in html and "555-0100" not in html, url
    assert html.count("550 &lt;z***@example.org&gt; unknown; call 6175****00") == 2  # table, failures


def test_an_auditors_csv_from_the_page_is_masked_and_a_dispatchers_is_not(signed_in, settings):
    alert_id = _alert(settings)
    url = f"/alerts/{alert_id}/deliveries.csv"
    assert "z***@example.org" in signed_in("auditor").get(url).get_data(as_text=True)
    assert "zeb@example.org" in signed_in("dispatcher").get(url).get_data(as_text=True)
