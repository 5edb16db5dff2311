"""Factories and a burst worker for the worker tests: real DB rows, real Redis, real RQ."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import redis
from rq import Queue
from sqlalchemy import func, select

from notifier.db import session_scope
from notifier.models import Alert, Delivery, Location, Subscriber
from workers.guard import TocsinJob, TocsinSimpleWorker
from workers.queues import QUEUES, SERIALIZER

# Variables a developer's shell might carry that would change what the jobs see.
LEAKY = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
         "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_BASE_URL", "SANDBOX", "SMTP_HOST",
         "MAIL_FROM", "SOCIAL_URLS", "BATCH_SIZE", "SMS_PER_SECOND", "SMS_SENDER_TYPE",
         "TWILIO_TIMEOUT", "FAILOVER_SEVERITIES", "HEAL_SECONDS", "METRICS_TOKEN",
         "PROMETHEUS_MULTIPROC_DIR", "AGENCY_NAME", "CAP_FEEDS", "CAP_POLL_SECONDS",
         "TRANSLATE_URL", "TRANSLATE_API_KEY")


def use_env(monkeypatch, env: dict, **extra) -> dict:
    """Give the jobs (which read Settings.from_env()) this environment."""
    for name in LEAKY:
        monkeypatch.delenv(name, raising=False)
    merged = {**env, **{k: str(v) for k, v in extra.items()}}
    for name, value in merged.items():
        monkeypatch.setenv(name, value)
    return merged


def now() -> datetime:
    return datetime.now(timezone.utc)


def add_residents(db_url: str, count: int, *, language: str = "en", channels=("sms",),
                  first: int = 0, email: bool = False) -> list[int]:
    """Insert `count` residents downtown with phones +1617555xxxx; return their ids."""
    with session_scope(db_url) as session:
        subs = []
        for i in range(first, first + count):
            sub = Subscriber(name=f"Resident {i}", phone=f"+1617555{i:04d}",
                             email=f"r{i}@example.org" if email else None,
                             language=language, channels=list(channels))
            sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))
            subs.append(sub)
        session.add_all(subs)
        session.flush()
        return [s.id for s in subs]


def add_alert(db_url: str, *, state: str = "sending", channels=("sms",), status: str = "Actual",
              messages: dict | None = None, **fields) -> int:
    """Insert an alert for everyone (already in `state`); return its id. Moderate, so its work
    takes the routine queues (`alerts`, `sms`…); pass severity="Severe" for the emergency lane."""
    values = dict(
        identifier=f"urn:test:{uuid.uuid4()}", state=state, status=status, msg_type="Alert",
        category="Safety", event="Hazardous Materials Warning", headline="Shelter in place",
        severity="Moderate", urgency="Immediate", certainty="Observed",
        messages=messages or {"en": "Chemical leak near Main St. Stay indoors.",
                              "es": "Fuga química cerca de Main St. Quédese adentro."},
        area={"description": "Everywhere", "everyone": True}, channels=list(channels),
        created_by="test", sent_at=now() if state != "draft" else None)
    values.update(fields)
    with session_scope(db_url) as session:
        alert = Alert(**values)
        session.add(alert)
        session.flush()
        return alert.id


def run_jobs(redis_url: str, queues=QUEUES) -> bool:
    """Run queued jobs in this process until the queues are empty; True if any ran."""
    conn = redis.Redis.from_url(redis_url)
    worker = TocsinSimpleWorker([Queue(q, connection=conn, serializer=SERIALIZER) for q in queues],
                                connection=conn)
    return worker.work(burst=True, logging_level="WARNING")


def queued(redis_url: str, name: str) -> list:
    return Queue(name, connection=redis.Redis.from_url(redis_url), serializer=SERIALIZER,
                 job_class=TocsinJob).get_jobs()


def deliveries_of(db_url: str, alert_id: int) -> list[Delivery]:
    with session_scope(db_url, readonly=True) as session:
        return list(session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)
                                    .order_by(Delivery.id)))


def count(db_url: str, model, *where) -> int:
    with session_scope(db_url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))
