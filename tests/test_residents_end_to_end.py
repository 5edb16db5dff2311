"""Issue 14's "done when", on real parts: a Spanish-speaking resident signs up on the web with
their street address and follows "community" in their beat (a texted code confirms the phone,
an emailed link the address); community notices come only by email and wait out their quiet
hours, while an evacuation order reaches them at once on every channel. The pages and the
API, the import-addresses command, a real Redis with RQ workers and the healing sweep, the
Twilio stand-in and a real SMTP server. The resident's quiet hours are set on /me around the
moment the test runs, so "night" needs no fake clock."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import redis

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Zone
from tests.admin_ui.signup_support import page_client, post_form
from tests.support.smtp_server import SmtpServer
from tests.test_end_to_end import DOWNTOWN, run_workers
from tests.workers.helpers import use_env
from workers import healing

ROOT = Path(__file__).resolve().parents[1]
TZ = "America/New_York"
ADDRESSES = "address,lat,lon,zone\n12 Main St,42.36,-71.06,beat-3\n14 Main St,42.3602,-71.06,beat-3\n"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def quiet_window_around(now: datetime) -> str:
    local = now.astimezone(ZoneInfo(TZ))
    return f"{(local - timedelta(hours=1)):%H:%M}-{(local + timedelta(hours=1)):%H:%M}"


def test_community_notices_come_by_email_after_quiet_hours_an_evacuation_at_once_everywhere(
        twilio_env, twilio_standin, smtp, monkeypatch, tmp_path):
    base = {k: v for k, v in twilio_env.items() if k not in ("SEVERITY_CHANNELS", "QUIET_HOURS")}
    env = use_env(monkeypatch, {**base, **smtp.env()}, TIMEZONE=TZ, VOICE_PER_SECOND="50")
    settings = Settings.from_env(env)
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        admin = {"Authorization": "Bearer " + accounts.create_token(session, "city", "admin")}
        session.add(Zone(code="beat-3", name="Beat 3", geometry=DOWNTOWN, keywords=[],
                         min_lat=42.35, min_lon=-71.07, max_lat=42.37, max_lon=-71.05))

    # The city's address points, through the command an operator runs.
    csv = tmp_path / "addresses.csv"
    csv.write_text(ADDRESSES, encoding="utf-8")
    imported = subprocess.run([sys.executable, "-m", "notifier", "import-addresses", str(csv)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0 and "imported 2, rejected 0" in imported.stdout + imported.stderr
    [home] = client.get("/api/v1/addresses?q=12 main").get_json()["items"]
    assert home == {"address": "12 Main St", "lat": 42.36, "lon": -71.06, "zone": "beat-3"}

    assert client.put("/api/v1/topics/community", headers=admin, json={
        "name": {"en": "Community", "es": "Comunidad"}, "keywords": ["COMMUNITY"]}).status_code == 201
    now = datetime.now(timezone.utc)
    web = page_client(create_app(settings))
    signed = post_form(web, "/signup?lang=es", "/signup", {
        "phone": "(617) 253-4000", "email": "ana@example.org", "language": "es",
        "channels": ["sms", "voice", "email"], "kind-0": "home", "address-0": "12 Main St",
        "zone-0": "", "topics": ["community"], "consent": "yes"})
    assert signed.status_code == 200, signed.get_data(as_text=True)
    [code_sms] = [r.form["Body"] for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    code = re.search(r"\b(\d{6})\b", code_sms).group(1)
    assert post_form(web, "/signup/confirm", "/signup/confirm",
                     {"action": "code", "code": code}).status_code == 200
    [confirm_mail] = smtp.messages
    link = urlsplit(re.search(r"https?://\S+/signup/\S+", confirm_mail.message.get_body(
        ("plain",)).get_content()).group(0).rstrip(").")).path
    assert post_form(web, link, link, {}).status_code == 200
    [ana] = client.get("/api/v1/subscribers", headers=admin).get_json()["items"]
    assert (ana["language"], ana["topics"], ana["zones"]) == ("es", ["community"], ["beat-3"])
    assert ana["channels"] == ["sms", "voice", "email"]
    # Her quiet hours on /me, from a sign-in link texted to her.
    assert post_form(web, "/me", "/me/link", {"address": "(617) 253-4000"}).status_code == 200
    sign_in = re.search(r"https?://\S+", [r.form["Body"] for r in twilio_standin.requests
                                          if r.path.endswith("/Messages.json")][-1]).group(0)
    path = urlsplit(sign_in).path + "?" + urlsplit(sign_in).query
    assert post_form(web, path, urlsplit(sign_in).path, {}, follow=True).status_code == 200
    saved = post_form(web, "/me", "/me", {
        "language": "es", "channels": ["sms", "voice", "email"], "topics": ["community"],
        "keep": ["location-0", "zone-beat-3"], "quiet_hours": quiet_window_around(now)})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    texted_before = len([r for r in twilio_standin.requests if r.path.endswith("/Messages.json")])
    mailed_before = len(smtp.messages)

    def send(body) -> dict:
        created = client.post("/api/v1/alerts", headers=admin, json=body)
        assert created.status_code == 201, created.get_json()
        alert = created.get_json()
        # The template's unreviewed translations are accepted, as a dispatcher must.
        assert client.post(f"/api/v1/alerts/{alert['id']}/send", headers=admin,
                           json={"accept_machine_translation": True}).status_code == 202
        run_workers(settings)
        return alert

    def statuses(alert) -> dict:
        items = client.get(f"/api/v1/alerts/{alert['id']}/deliveries", headers=admin).get_json()["items"]
        return {d["channel"]: d["status"] for d in items}

    notice = send({"headline": "Café con la policía", "topic": "community", "severity": "Minor",
                   "urgency": "Expected", "certainty": "Likely", "status": "Actual",
                   "messages": {"es": "Café con la policía el sábado a las 10."},
                   "area": {"zones": ["beat-3"]}})
    # Minor: email only (SEVERITY_CHANNELS; no social accounts here), and it waits.
    assert notice["channels"] == ["email"]
    assert statuses(notice) == {"email": "scheduled"}

    order = send({"template": "evacuate_now", "status": "Actual", "area": {"zones": ["beat-3"]},
                  "params": {"area": "Main St", "shelter": "Lincoln High School",
                             "by": (now + timedelta(hours=1)).isoformat()}})
    # Extreme and Immediate: every channel at once, quiet hours or not, topic or not.
    assert order["channels"] == ["sms", "voice", "email"]
    assert statuses(order) == {"sms": "sent", "voice": "sent", "email": "sent"}
    texts = [r.form["Body"] for r in twilio_standin.requests
             if r.path.endswith("/Messages.json")][texted_before:]
    assert len(texts) == 1 and "EVACÚE AHORA: Main St" in texts[0]
    assert [m.message["Subject"] for m in smtp.messages[mailed_before:]] == [
        "Alerta extrema: Evacúe ahora: Main St"]

    # When her quiet hours end, the healing sweep releases the notice and it goes by email.
    later = now + timedelta(hours=1, minutes=1)
    assert statuses(notice) == {"email": "scheduled"}
    for _ in range(2):  # the first round of a new epoch resumes; the second sweeps
        healing.heal(settings, later)
        redis.Redis.from_url(settings.redis_url).delete(healing.LOCK_KEY)
    run_workers(settings)
    assert statuses(notice) == {"email": "sent"}
    assert smtp.messages[-1].message["Content-Language"] == "es"
    assert "Café con la policía el sábado" in smtp.messages[-1].message.get_body(
        ("plain",)).get_content()
    assert len([r for r in twilio_standin.requests
                if r.path.endswith("/Messages.json")]) == texted_before + 1  # no SMS at all
