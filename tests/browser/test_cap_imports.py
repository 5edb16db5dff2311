"""A partner's CAP alert polled in as a draft: Dana finds it on her dashboard, opens it, and a
draft the peer left unsendable opens on the compose page with what to fix; axe-core clean."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from admin_ui import create_app
from notifier import cap_import
from notifier.db import session_scope
from tests.browser.conftest import axe_violations
from tests.browser.test_dispatcher_flow import sign_in, town  # noqa: F401  (the fixture)
from tests.support.peers import PEERS

pytestmark = pytest.mark.browser
NS = "urn:oasis:names:tc:emergency:cap:1.2"
FLOOD = (f'<alert xmlns="{NS}"><identifier>NWS-7</identifier><sender>nws@example.gov</sender>'
         "<sent>2026-11-22T02:00:00-00:00</sent><status>Exercise</status><msgType>Alert</msgType>"
         "<scope>Public</scope><info><category>Met</category><event>Flood</event>"
         "<urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>"
         "<headline>Flood warning downtown</headline><description>The river rises.</description>"
         "<area><areaDesc>Downtown</areaDesc><geocode><valueName>ZONE</valueName>"
         "<value>downtown</value></geocode></area></info></alert>").encode()


def test_a_polled_cap_alert_waits_on_the_dashboard_for_a_person(town, serve, page):  # noqa: F811
    now = datetime.now(timezone.utc)
    with session_scope(town.database_url) as session:
        flood = cap_import.import_cap(session, FLOOD, town, "system:cap-feed", now,
                                      source="https://feeds.example.gov/cap.atom").alert.id
        cancel = cap_import.import_cap(session, (PEERS / "cap" / "ipaws_cancel_no_info.xml")
                                       .read_bytes(), town, "system:cap-feed", now).alert.id
    base = serve(create_app(town))
    sign_in(page, base)
    page.get_by_test_id("nav-dashboard").click()
    block = page.get_by_test_id("cap-imports")
    expect(block).to_contain_text("2 drafts from partners' CAP alerts")
    expect(page.get_by_test_id(f"cap-import-{flood}")).to_contain_text("from nws@example.gov")
    assert axe_violations(page) == []

    page.get_by_test_id(f"cap-import-link-{flood}").click()
    page.wait_for_url(f"**/alerts/{flood}/preview")
    expect(page.get_by_test_id("send-button")).to_have_count(1)  # a person sends it, or not

    page.get_by_test_id("nav-dashboard").click()
    page.get_by_test_id(f"cap-import-link-{cancel}").click()
    page.wait_for_url(f"**/alerts/new?from={cancel}")
    expect(page.locator("body")).to_contain_text("This draft cannot be sent as it is")
    assert axe_violations(page) == []
