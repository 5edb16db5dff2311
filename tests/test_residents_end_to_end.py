"""Issue 14's "done when", on real parts: a Spanish-speaking resident placed by their street
address follows "community" in their beat; community notices come only by email and wait out
their quiet hours, while an evacuation order reaches them at once on every channel. The
API, the import-addresses command, a real Redis with RQ workers and the healing sweep, the
Twilio stand-in and a real SMTP server. The resident's quiet hours are set around the moment
the test runs, so "night" needs no fake clock."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Zone
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
    ana = client.post("/api/v1/subscribers", headers=admin, json={
        "name": "Ana", "phone": "+16172534000", "email": "ana@example.org", "language": "es",
        "channels": ["sms", "voice", "email"], "topics": ["community"],
        "zones": [home["zone"]], "quiet_hours": quiet_window_around(now),
        "locations": [{"label": home["address"], "lat": home["lat"], "lon": home["lon"]}]})
    assert ana.status_code == 201, ana.get_json()

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
    texts = [r.form["Body"] for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    assert len(texts) == 1 and "EVACÚE AHORA: Main St" in texts[0]
    assert [m.message["Subject"] for m in smtp.messages] == [
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
    assert len([r for r in twilio_standin.requests if r.path.endswith("/Messages.json")]) == 1
