"""From `POST /api/v1/alerts` to `delivered`: the API, a real Redis with RQ workers, the Twilio
stand-in over HTTP, and status callbacks signed with twilio's RequestValidator."""
from __future__ import annotations

from urllib.parse import urlsplit


from admin_ui import create_app
from notifier import accounts
from notifier.db import session_scope
from tests.support.twilio_signing import signed_post
from workers.callback_apply import drain
from workers.guard import TocsinSimpleWorker
from workers.queues import QUEUES, redis_connection

# A square around downtown Boston; the residents below are placed inside or outside it.
DOWNTOWN = {"type": "Polygon", "coordinates": [[
    [-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37], [-71.07, 42.37], [-71.07, 42.35]]]}
INSIDE = {"lat": 42.36, "lon": -71.06}
OUTSIDE = {"lat": 42.40, "lon": -71.10}
RESIDENTS = [  # name, phone, language, location, expected text language
    ("Ana", "(617) 253-1000", "es", INSIDE, "es"),
    ("Bea", "617.253.1001", "es-MX", INSIDE, "es"),  # base language
    ("Cal", "+1 617 253 1002", "ko", INSIDE, "en"),  # no Korean text: DEFAULT_LANGUAGE
    ("Dan", "617-253-1003", "en", OUTSIDE, None),  # outside the area
    ("Eve", "617-253-1004", "en", INSIDE, None),  # opted out of SMS below
]
TEXTS = {"en": "Chemical leak near Main St. Stay indoors, close windows.",
         "es": "Fuga química cerca de Main St. Quédese adentro y cierre las ventanas."}


def run_workers(settings) -> None:
    TocsinSimpleWorker(list(QUEUES), connection=redis_connection(settings)).work(burst=True)


def test_an_alert_reaches_exactly_the_residents_in_its_area_in_their_language_then_delivered(
        twilio_env, twilio_settings, twilio_standin, monkeypatch):
    for name, value in twilio_env.items():  # the jobs read their settings from the environment
        monkeypatch.setenv(name, value)
    settings = twilio_settings
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "cad", "dispatcher")}

    ids = {}
    for name, phone, language, location, _ in RESIDENTS:
        response = client.post("/api/v1/subscribers", headers=headers, json={
            "name": name, "phone": phone, "language": language, "channels": ["sms"],
            "locations": [{"label": "home", **location}]})
        assert response.status_code == 201, response.get_json()
        ids[name] = response.get_json()["id"]
    with session_scope(settings.database_url) as session:
        from notifier.subscriptions import opt_out
        from notifier.models import utcnow
        opt_out(session, "+16172531004", "sms", "api", None, utcnow())

    body = {"headline": "Shelter in place", "event": "Hazardous Materials Warning",
            "messages": TEXTS, "category": "Safety", "severity": "Severe",
            "urgency": "Immediate", "certainty": "Observed", "status": "Actual",
            "msg_type": "Alert", "area": {"description": "Downtown", "geojson": DOWNTOWN},
            "channels": ["sms"]}
    preview = client.post("/api/v1/alerts/preview", headers=headers, json=body).get_json()
    assert preview["recipients"] == 3
    assert preview["deliveries"]["sms"] == 3

    created = client.post("/api/v1/alerts", headers=headers, json=body)
    assert created.status_code == 201, created.get_json()
    alert_id = created.get_json()["id"]
    assert created.get_json()["state"] == "draft"
    assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
    assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 409

    run_workers(settings)

    sent = [r for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    by_number = {r.form["To"]: r.form for r in sent}
    assert len(sent) == 3 and set(by_number) == {"+16172531000", "+16172531001", "+16172531002"}
    assert TEXTS["es"] in by_number["+16172531000"]["Body"]
    assert TEXTS["es"] in by_number["+16172531001"]["Body"]
    assert TEXTS["en"] in by_number["+16172531002"]["Body"]
    callbacks = [form["StatusCallback"] for form in by_number.values()]
    assert all(url.startswith(settings.public_url + "/webhooks/twilio/status") for url in callbacks)

    stats = client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()["stats"]
    assert stats["channels"]["sms"]["sent"] == 3
    assert stats["channels"]["sms"]["skipped"] == 1  # Eve: opted out, never texted

    deliveries = client.get(f"/api/v1/alerts/{alert_id}/deliveries?status=sent",
                            headers=headers).get_json()["items"]
    by_address = {d["address"]: d for d in deliveries}
    for form in by_number.values():
        delivery = by_address[form["To"]]
        url = urlsplit(form["StatusCallback"])
        response = signed_post(client, f"{url.path}?{url.query}", {
            "MessageSid": delivery["provider_id"], "MessageStatus": "delivered",
            "AccountSid": settings.twilio_account_sid}, settings)
        assert response.status_code == 200
    drain(settings)  # the applier beside the workers applies the queued callbacks
    # A forged callback changes nothing.
    forged = client.post(urlsplit(callbacks[0]).path, data={
        "MessageSid": deliveries[0]["provider_id"], "MessageStatus": "failed"},
        headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403

    alert = client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()
    assert alert["stats"]["channels"]["sms"]["delivered"] == 3
    assert alert["stats"]["recipients"] == 3
    languages = {d["address"]: d["language"] for d in deliveries}
    assert languages == {"+16172531000": "es", "+16172531001": "es", "+16172531002": "en"}
