"""GET /healthz reports the database, Redis, workers and queue lengths; 503 when a part is down."""
from __future__ import annotations

import dataclasses

from admin_ui import create_app
from tests.support.services import free_port
from workers.queues import EMERGENCY_QUEUES, QUEUES, enqueue_deliveries, enqueue_fan_out


def test_it_reports_everything_ok(client, settings):
    enqueue_fan_out(settings, 41)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["db"], body["redis"], body["workers"]) == ("ok", "ok", 0)
    assert set(body["queues"]) == set(QUEUES)
    assert body["queues"]["alerts"] == 1


def test_it_answers_503_naming_redis_when_redis_is_unreachable(settings):
    down = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    response = create_app(down).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["db"] == "ok"
    assert body["redis"] != "ok" and "Connect" in body["redis"]


def test_it_answers_503_naming_the_database_when_it_cannot_open(settings, tmp_path):
    # A directory where the database file should be: SQLite cannot open it.
    down = dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path}")
    response = create_app(down).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"] == "ok"
    assert body["db"] != "ok"


def test_it_needs_no_token(client):
    assert client.get("/healthz").status_code == 200


def test_it_counts_the_emergency_queues_apart_from_the_five(client, settings):
    enqueue_fan_out(settings, 41, emergency=True)
    enqueue_deliveries(settings, "sms", [1, 2], emergency=True)
    body = client.get("/healthz").get_json()
    assert set(body["queues"]) == set(QUEUES) and body["queues"]["alerts"] == 0
    assert body["emergency_queues"] == {name: 0 for name in EMERGENCY_QUEUES} | {
        "emergency-alerts": 1, "emergency-sms": 1}
