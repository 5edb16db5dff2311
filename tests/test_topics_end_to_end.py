"""Topics through the real path: the API, the preview, a real Redis with RQ workers and the
Twilio stand-in. A routine alert about a topic reaches only its followers in the area; a Severe
or Extreme one, or one without a topic, everyone in the area; nobody outside it."""
from __future__ import annotations

import pytest

from admin_ui import create_app
from notifier import accounts
from notifier.db import session_scope
from tests.test_end_to_end import DOWNTOWN, INSIDE, OUTSIDE, run_workers

RESIDENTS = {  # name: (phone, location, topics)
    "Fay": ("+16172532000", INSIDE, ["traffic"]),   # follows the topic, inside the area
    "Gus": ("+16172532001", INSIDE, []),            # follows nothing, inside
    "Hal": ("+16172532002", OUTSIDE, ["traffic"]),  # follows the topic, outside the area
}
AREA = {"description": "Downtown", "geojson": DOWNTOWN}
EVERYONE = {"description": "Citywide", "everyone": True}
MATRIX = [  # severity, topic, area, who receives it
    ("Minor", "traffic", AREA, {"Fay"}),
    ("Moderate", "traffic", AREA, {"Fay"}),
    ("Severe", "traffic", AREA, {"Fay", "Gus"}),
    ("Extreme", "traffic", AREA, {"Fay", "Gus"}),
    ("Minor", None, AREA, {"Fay", "Gus"}),
    ("Minor", "traffic", EVERYONE, {"Fay", "Hal"}),
    ("Severe", "traffic", EVERYONE, {"Fay", "Gus", "Hal"}),
]


@pytest.mark.parametrize(("severity", "topic", "area", "reached"), MATRIX)
def test_a_topic_alert_reaches_followers_unless_severe_and_never_anyone_outside_the_area(
        severity, topic, area, reached, twilio_env, twilio_settings, twilio_standin, monkeypatch):
    for name, value in twilio_env.items():  # the jobs read their settings from the environment
        monkeypatch.setenv(name, value)
    settings = twilio_settings
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "city", "admin")}
        second = {"Authorization": "Bearer " + accounts.create_token(session, "chief", "dispatcher")}
    assert client.put("/api/v1/topics/traffic", headers=headers, json={
        "name": {"en": "Road closures"}, "keywords": ["traffic"]}).status_code == 201
    for name, (phone, location, topics) in RESIDENTS.items():
        response = client.post("/api/v1/subscribers", headers=headers, json={
            "name": name, "phone": phone, "channels": ["sms"], "topics": topics,
            "locations": [{"label": "home", **location}]})
        assert response.status_code == 201, response.get_json()

    body = {"headline": "Main St closed", "messages": {"en": "Main St is closed until 6 pm."},
            "severity": severity, "urgency": "Expected", "certainty": "Likely",
            "status": "Actual", "area": area,
            "channels": ["sms"], "topic": topic}
    preview = client.post("/api/v1/alerts/preview", headers=headers, json=body).get_json()
    assert preview["recipients"] == len(reached)
    if topic is None:
        assert preview["topic"] is None
    else:
        assert preview["topic"] == {"code": "traffic", "name": {"en": "Road closures"},
                                    "followers": 2,
                                    "only_followers": severity not in ("Severe", "Extreme")}

    created = client.post("/api/v1/alerts", headers=headers, json=body)
    assert created.status_code == 201, created.get_json()
    alert_id = created.get_json()["id"]
    if area is EVERYONE:  # the two-person rule holds for any alert to the whole area
        assert created.get_json()["awaiting_approval"] is True
        assert client.post(f"/api/v1/alerts/{alert_id}/approve", headers=second).status_code == 200
    assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
    run_workers(settings)

    texted = {r.form["To"] for r in twilio_standin.requests if r.path.endswith("/Messages.json")}
    assert texted == {RESIDENTS[name][0] for name in reached}
    stats = client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()["stats"]
    assert stats["recipients"] == len(reached)
