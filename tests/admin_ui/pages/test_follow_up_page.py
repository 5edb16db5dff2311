"""The stop question and the follow-up forms on the alert page (test client)."""
from __future__ import annotations

from tests.admin_ui.pages.test_alerts import alert_row
from tests.admin_ui.pages.test_live_page import add_deliveries, visible_text


def test_stopping_asks_once_saying_what_stops_and_what_cannot_be_recalled(signed_in, settings):
    alert_id = add_deliveries(settings, {"state": "sending", "sent_at": None},
                              {"status": "pending", "sent_at": None},
                              {"status": "retry_wait", "sent_at": None}, {"status": "delivered"})
    client = signed_in("dispatcher")
    page = client.get(f"/alerts/{alert_id}")
    assert f'href="/alerts/{alert_id}/cancel" class="button danger"' in page.get_data(as_text=True)
    text = visible_text(client.get(f"/alerts/{alert_id}/cancel").get_data(as_text=True))
    assert "2 messages not yet sent will not go out." in text
    assert "1 message already handed to a provider cannot be called back." in text
    assert "Yes, stop this alert" in text and "No, keep it going" in text
    assert alert_row(settings, alert_id).state == "sending"  # asking changed nothing


def test_a_draft_has_no_stop_question_and_auditors_cannot_stop(signed_in, settings):
    draft_id = add_deliveries(settings, {"state": "draft", "sent_at": None})
    sent_id = add_deliveries(settings, {"state": "sent"})
    client = signed_in("dispatcher")
    assert client.get(f"/alerts/{draft_id}/cancel").location.endswith(f"/alerts/{draft_id}")
    discarded = client.post(f"/alerts/{draft_id}/cancel", data={"csrf_token": client.csrf})
    assert discarded.location.endswith("/alerts") and alert_row(settings, draft_id).state == "cancelled"
    auditor = signed_in("auditor")
    assert auditor.get(f"/alerts/{sent_id}/cancel").status_code == 403


def test_the_follow_up_forms_start_from_an_all_clear_and_an_empty_update(signed_in, settings):
    alert_id = add_deliveries(settings, {"state": "sent", "messages": {
        "en": "Evacuate Beat 2 now.", "it": "Evacuate il distretto 2 ora."}})
    html = signed_in("dispatcher").get(f"/alerts/{alert_id}").get_data(as_text=True)
    all_clear = html.split('data-testid="all-clear-form"')[1].split("</form>")[0]
    update = html.split('data-testid="update-form"')[1].split("</form>")[0]
    assert 'name="msg_type" value="Cancel"' in all_clear and 'value="Update"' in update
    assert "Evacuate" not in all_clear + update and "distretto" not in all_clear + update
    assert all_clear.count(">The danger has passed.") == 2  # Italian falls back to the default
    assert 'data-testid="all-clear-untranslated-it"' in all_clear
    assert 'data-testid="all-clear-untranslated-en"' not in all_clear
    assert update.count("></textarea>") == 2
