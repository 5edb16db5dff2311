"""The Flask app on the test's database and Redis, API tokens per role, row factories."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest

from admin_ui import create_app
from notifier import accounts
from notifier.db import session_scope
from notifier.models import Alert, Delivery, Subscriber

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
_serial = itertools.count(1)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(settings):
    """token(role) → plaintext bearer token for a fresh API token of that role."""
    def make(role: str, name: str | None = None) -> str:
        with session_scope(settings.database_url) as session:
            return accounts.create_token(session, name or f"{role}-client", role)
    return make


@pytest.fixture
def auth(token):
    """auth(role) → headers carrying a bearer token of that role."""
    cache: dict = {}

    def headers(role: str) -> dict:
        if role not in cache:
            cache[role] = {"Authorization": f"Bearer {token(role)}"}
        return cache[role]
    return headers


def make_alert(session, **overrides) -> Alert:
    """An alert row with CAP defaults; keyword arguments override columns."""
    values = dict(identifier=f"urn:tocsin:test:{next(_serial)}",
                  state="sending", status="Actual", msg_type="Alert", category="Safety",
                  event="Test Event", headline="Shelter in place", severity="Severe",
                  urgency="Immediate", certainty="Observed", messages={"en": "Stay indoors."},
                  area={"everyone": True}, channels=["sms"], created_by="test",
                  created_at=NOW)
    values.update(overrides)
    alert = Alert(**values)
    session.add(alert)
    session.flush()
    return alert


def make_subscriber(session, **overrides) -> Subscriber:
    values = dict(name="Ana", phone="+16175550100", email=None, language="en", channels=["sms"],
                  created_at=NOW, updated_at=NOW)
    values.update(overrides)
    sub = Subscriber(**values)
    session.add(sub)
    session.flush()
    return sub


def make_delivery(session, alert: Alert, subscriber: Subscriber | None = None,
                  **overrides) -> Delivery:
    values = dict(alert_id=alert.id, subscriber_id=subscriber.id if subscriber else None,
                  channel="sms", address=subscriber.phone if subscriber else "+16175550100",
                  language="en", status="sent", provider_id=None, attempts=1,
                  queued_at=NOW, sent_at=NOW, updated_at=NOW)
    values.update(overrides)
    delivery = Delivery(**values)
    session.add(delivery)
    session.flush()
    return delivery
