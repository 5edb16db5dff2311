"""Drafts made from partners' CAP alerts on the dispatcher pages: listed on the dashboard, and a
draft the peer's CAP left unsendable sends its reader to correct it, never to a broken preview."""
from __future__ import annotations

from datetime import datetime, timezone

from notifier import cap_import
from notifier.db import session_scope
from tests.support.peers import PEERS

SAMPLES = PEERS / "cap"


def imported(settings, name: str) -> int:
    with session_scope(settings.database_url) as session:
        made = cap_import.import_cap(session, (SAMPLES / name).read_bytes(), settings,
                                     "system:cap-feed", datetime.now(timezone.utc),
                                     source="https://feeds.example.org/cap.atom")
        return made.alert.id


def test_the_dashboard_lists_drafts_from_partners_cap_alerts(signed_in, settings):
    amber = imported(settings, "oasis_a4_amber_alert_en_es.xml")
    storm = imported(settings, "oasis_a2_nws_severe_thunderstorm.xml")
    html = signed_in("dispatcher").get("/dashboard").get_data(as_text=True)
    block = html.split('data-testid="cap-imports"')[1].split("</section>")[0]
    assert "2 drafts from partners' CAP alerts" in block
    assert f'href="/alerts/{amber}/preview"' in block and f'href="/alerts/{storm}/preview"' in block
    assert "from KSTO@NWS.NOAA.GOV" in block
    assert "Nothing is sent until a dispatcher checks a draft and sends it." in block


def test_a_sent_or_discarded_import_leaves_the_dashboard(signed_in, settings):
    amber = imported(settings, "oasis_a4_amber_alert_en_es.xml")
    client = signed_in("dispatcher")
    assert f'data-testid="cap-import-{amber}"' in client.get("/dashboard").get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        from notifier import alerts
        alerts.cancel_alert(session, amber, "user:test", datetime.now(timezone.utc))
    assert 'data-testid="cap-imports"' not in client.get("/dashboard").get_data(as_text=True)


def test_an_unsendable_import_opens_on_the_compose_page_with_the_problems(signed_in, settings):
    cancel = imported(settings, "ipaws_cancel_no_info.xml")
    client = signed_in("dispatcher")
    response = client.get(f"/alerts/{cancel}/preview")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/alerts/new?from={cancel}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "This draft cannot be sent as it is" in page.get_data(as_text=True)


def test_a_sendable_import_has_its_preview(signed_in, settings):
    with session_scope(settings.database_url) as session:
        made = cap_import.import_cap(session, (SAMPLES / "oasis_a1_homeland_security_alert.xml")
                                     .read_bytes().replace(b"worldwide</areaDesc>",
                                                           b"worldwide</areaDesc><circle>38.9,-77.0 5</circle>"),
                                     settings, "system:cap-feed", datetime.now(timezone.utc))
        alert_id = made.alert.id
    response = signed_in("dispatcher").get(f"/alerts/{alert_id}/preview")
    assert response.status_code == 200
