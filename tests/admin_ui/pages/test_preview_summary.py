"""The preview's decision box: status, state, reach, area, channels with what each will do,
languages with SMS segments and cost, and warnings — above the details, the send box beside."""
from __future__ import annotations

import dataclasses
import re

from sqlalchemy import update

from admin_ui import create_app
from notifier import audience
from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code
from tests.admin_ui.pages.test_alerts import compose, residents  # noqa: F401

TWILIO_SERVICE = {"twilio_account_sid": "AC" + "1" * 32, "twilio_auth_token": "t" * 32,
                  "twilio_messaging_service_sid": "MG" + "2" * 32}


def dispatcher(settings, user, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app.config["TESTING"] = True
    client = page_client(app)
    sign_in_with_code(client, user("ann", "dispatcher"))
    client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
    return client


def cell(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</t[dh]>', html, re.S)
    assert match, f"no {testid} in the page"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def test_the_decision_and_the_send_box_come_before_the_details(signed_in, residents):
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client)}/preview").get_data(as_text=True)
    order = [html.index(marker) for marker in (
        'data-testid="decision"', 'id="send-h"', 'id="reach-h"', 'id="texts-h"', 'id="details-h"')]
    assert order == sorted(order)
    decision = html.split('data-testid="decision"')[1].split('id="send-h"')[0]
    for part in ('data-testid="preview-recipients">2<', 'data-testid="preview-channels"',
                 'data-testid="preview-languages"', "Downtown", "a drawn area"):
        assert part in decision


def test_a_sandboxed_channel_says_it_is_simulated_and_why(signed_in, residents):
    client = signed_in("dispatcher")  # no Twilio credentials: SMS are recorded
    html = client.get(f"/alerts/{compose(client)}/preview").get_data(as_text=True)
    mode = cell(html, "preview-channel-mode-sms")
    assert mode.startswith("Simulated — nobody receives it") and "Twilio is not set up" in mode
    assert cell(html, "preview-deliveries-sms") == "2"


def test_a_stored_channel_that_cannot_send_reaches_nobody_and_is_said_first(
        settings, residents, user):
    client = dispatcher(settings, user, **TWILIO_SERVICE)  # a messaging service cannot call
    alert_id = compose(client)
    with session_scope(settings.database_url) as session:  # stored before the rule existed
        session.execute(update(Alert).where(Alert.id == alert_id)
                        .values(channels=["sms", "voice"]))
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert cell(html, "preview-deliveries-voice") == "0"
    assert cell(html, "preview-channel-mode-voice").startswith("Cannot send")
    assert cell(html, "preview-channel-mode-sms") == "Sent for real"
    warnings = html.split('data-testid="preview-warnings"')[1].split("</ul>")[0]
    first = re.search(r"<li>(.*?)</li>", warnings, re.S).group(1)
    assert first.startswith("Voice cannot send") and "TWILIO_FROM_NUMBER" in first
    # The fan-out obeys the same rule: nobody is called.
    live = dataclasses.replace(settings, **TWILIO_SERVICE)
    with session_scope(settings.database_url, readonly=True) as session:
        counts = audience.preview(session, session.get(Alert, alert_id), live)
        assert counts["deliveries"]["voice"] == 0 and counts["deliveries"]["sms"] == 2
        assert counts["channels"]["voice"]["mode"] == "unavailable"


def test_segments_and_the_cost_per_language_are_in_the_summary(settings, residents, user):
    client = dispatcher(settings, user, sms_segment_price=0.01)
    long_es = "Hierva el agua " * 15  # 225 characters: two segments
    alert_id = compose(client, lang_1="es", text_1=long_es)
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert cell(html, "preview-segments-en") == "1" and cell(html, "preview-segments-es") == "2"
    # Both residents read English: two SMS of one segment, nobody gets the Spanish one.
    assert cell(html, "preview-cost-en") == "$0.02" and cell(html, "preview-cost-es") == "$0.00"
    assert cell(html, "preview-cost-total") == "$0.02"
    assert "at $0.0100 a segment" in html


def test_the_reach_is_said_in_words_not_counters(signed_in, residents):
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client)}/preview").get_data(as_text=True)
    reasons = html.split('data-testid="preview-reasons"')[1].split("</ul>")[0]
    assert "Residents whose home or another saved place is inside the area: 2" in reasons
    assert "Reached by location" not in html


def test_an_exercise_says_who_receives_it_in_the_summary(signed_in, residents):
    client = signed_in("dispatcher")
    alert_id = compose(client, status="Exercise")
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    decision = html.split('data-testid="decision"')[1].split('id="send-h"')[0]
    assert "only the test group receives it" in decision
    assert 'data-testid="preview-recipients">1<' in decision
