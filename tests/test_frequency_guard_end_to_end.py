"""The frequency guard through real workers (DESIGN §12): with MAX_ROUTINE_PER_DAY=1, a
resident following a topic gets one routine topic alert a day; the next is skipped with the
reason, and the preview said so first. A threat on the same topic still reaches them."""
from __future__ import annotations

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Delivery
from tests.test_end_to_end import DOWNTOWN, INSIDE, run_workers
from tests.workers.helpers import use_env

AREA = {"description": "Downtown", "geojson": DOWNTOWN}


def test_a_second_routine_topic_alert_the_same_day_is_skipped_but_a_threat_is_not(
        twilio_env, twilio_standin, monkeypatch):
    settings = Settings.from_env(use_env(monkeypatch, twilio_env, MAX_ROUTINE_PER_DAY="1"))
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "city", "admin")}
    assert client.put("/api/v1/topics/community", headers=headers, json={
        "name": {"en": "Community news"}, "keywords": ["COMMUNITY"]}).status_code == 201
    response = client.post("/api/v1/subscribers", headers=headers, json={
        "name": "Ana", "phone": "+16172533000", "channels": ["sms"], "topics": ["community"],
        "locations": [{"label": "home", **INSIDE}]})
    assert response.status_code == 201, response.get_json()

    def alert(severity, urgency, text):
        return {"headline": text, "messages": {"en": text}, "severity": severity,
                "urgency": urgency, "certainty": "Likely", "status": "Actual", "area": AREA,
                "channels": ["sms"], "topic": "community"}

    def send(body) -> int:
        created = client.post("/api/v1/alerts", headers=headers, json=body)
        assert created.status_code == 201, created.get_json()
        alert_id = created.get_json()["id"]
        assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
        run_workers(settings)
        return alert_id

    send(alert("Minor", "Expected", "Coffee with a cop at 10."))
    second = alert("Minor", "Expected", "Bike registration on Saturday.")
    preview = client.post("/api/v1/alerts/preview", headers=headers, json=second).get_json()
    assert preview["skipped_daily_limit"] == 1
    second_id = send(second)
    [row] = client.get(f"/api/v1/alerts/{second_id}/deliveries",
                       headers=headers).get_json()["items"]
    assert row["status"] == "skipped"
    with session_scope(settings.database_url) as session:
        assert session.get(Delivery, row["id"]).error_message == (
            "daily limit of routine messages reached")

    threat_id = send(alert("Severe", "Immediate", "Gas leak: leave Main St now."))
    [row] = client.get(f"/api/v1/alerts/{threat_id}/deliveries", headers=headers).get_json()["items"]
    assert row["status"] == "sent"
    bodies = [r.form["Body"] for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    assert [b.split(": ", 1)[1] for b in bodies] == ["Coffee with a cop at 10.",
                                                   "Gas leak: leave Main St now."]
