"""The /api/v1 guard: bearer tokens, roles, JSON-only errors, paging arguments."""
from __future__ import annotations

import re
import threading

import pytest

from admin_ui import create_app
from admin_ui.api import ANYONE
from notifier.db import session_scope
from notifier.models import ApiToken, InboundMessage
from tests.admin_ui.conftest import NOW
from tests.support.fixtures import TWILIO_FROM_NUMBER
from tests.support.twilio_signing import signed_post

PEOPLE = ("admin", "dispatcher")
READERS = ("admin", "dispatcher", "auditor")
AUDITORS = ("admin", "auditor")
# (method, path, roles allowed): DESIGN §4's table of who may do what.
ROLE_TABLE = [
    ("POST", "/api/v1/subscribers", PEOPLE),
    ("GET", "/api/v1/subscribers", PEOPLE),
    ("GET", "/api/v1/subscribers/999", PEOPLE),
    ("PATCH", "/api/v1/subscribers/999", PEOPLE),
    ("DELETE", "/api/v1/subscribers/999", PEOPLE),
    ("POST", "/api/v1/subscribers/import", PEOPLE),
    ("POST", "/api/v1/alerts", PEOPLE),
    ("POST", "/api/v1/alerts/preview", PEOPLE),
    ("POST", "/api/v1/alerts/999/send", PEOPLE),
    ("POST", "/api/v1/alerts/999/cancel", PEOPLE),
    ("POST", "/api/v1/alerts/999/approve", PEOPLE),
    ("PATCH", "/api/v1/alerts/999", PEOPLE),
    ("GET", "/api/v1/alerts", READERS),
    ("GET", "/api/v1/alerts/999", READERS),
    ("GET", "/api/v1/alerts/999/deliveries", READERS),
    ("GET", "/api/v1/alerts/999/deliveries.csv", READERS),
    ("GET", "/api/v1/audit", AUDITORS),
    ("GET", "/api/v1/sandbox/outbox", READERS),
]


def api_routes(app):
    """Every (method, concrete path) the /api/v1 blueprint serves behind a token, ids filled in."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        if app.view_functions[rule.endpoint].required_roles == {ANYONE}:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_api_route_answers_401_without_a_token(app, client):
    routes = list(api_routes(app))
    assert len(routes) >= len(ROLE_TABLE)
    for method, path in routes:
        response = client.open(path, method=method, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.is_json and response.get_json()["error"]


def test_only_the_api_description_and_the_address_search_are_open_without_a_token(app):
    public = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              and app.view_functions[rule.endpoint].required_roles == {ANYONE}]
    # The address search is public by design (DESIGN §12: a sign-up page asks it), rate-limited.
    assert sorted(public) == ["/api/v1/addresses", "/api/v1/openapi.json"]


def test_every_route_in_the_role_table_exists(app):
    served = set(api_routes(app))
    for method, path, _roles in ROLE_TABLE:
        concrete = path.replace("999", "1")
        assert (method, concrete) in served, (method, path)


@pytest.mark.parametrize("role", ["dispatcher", "auditor"])
def test_each_role_gets_403_exactly_where_the_table_says(client, auth, role):
    for method, path, roles in ROLE_TABLE:
        response = client.open(path, method=method, headers=auth(role), json={})
        if role in roles:
            assert response.status_code not in (401, 403), (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert response.get_json() == {"error": "this token's role may not do that"}


def test_admin_may_do_everything(client, auth):
    for method, path, _roles in ROLE_TABLE:
        response = client.open(path, method=method, headers=auth("admin"), json={})
        assert response.status_code not in (401, 403), (method, path)


@pytest.mark.parametrize("header", [
    "Bearer tcn_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "tcn_no_scheme", "",
])
def test_unknown_or_malformed_tokens_get_401(client, header):
    response = client.get("/api/v1/alerts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_gets_401(client, settings, token):
    plaintext = token("admin", "old-cad")
    with session_scope(settings.database_url) as session:
        session.query(ApiToken).filter_by(name="old-cad").update({"revoked_at": NOW})
    response = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 401


def test_the_scheme_is_case_insensitive(client, token):
    response = client.get("/api/v1/alerts", headers={"Authorization": f"bearer {token('auditor')}"})
    assert response.status_code == 200


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/nothing-here"), ("GET", "/api/v2/alerts"), ("GET", "/api/v1/alerts/abc"),
    ("GET", "/api/v1/alerts/99999999999999999999"), ("PUT", "/api/v1/alerts"),
    ("DELETE", "/api/v1/alerts/1/send"), ("GET", "/webhooks/twilio/status"),
])
def test_unknown_routes_and_methods_answer_json_not_html(client, auth, method, path):
    response = client.open(path, method=method, headers=auth("admin"))
    assert response.status_code in (404, 405)
    assert response.is_json
    assert set(response.get_json()) == {"error"}
    assert b"<html" not in response.data.lower()


def test_405_names_the_allowed_methods(client, auth):
    response = client.put("/api/v1/alerts", headers=auth("admin"))
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_a_400_in_json(client, auth):
    response = client.post("/api/v1/subscribers", data=b'{"name": "Ana",',
                           headers={**auth("admin"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "the body is not valid JSON"}


def test_a_body_that_is_not_json_is_a_415(client, auth):
    response = client.post("/api/v1/alerts", data="headline=x",
                           headers={**auth("admin"), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]


def test_a_json_body_of_the_wrong_shape_is_a_422(client, auth):
    response = client.post("/api/v1/subscribers", json=["not", "an", "object"], headers=auth("admin"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["_schema"]


def test_a_body_over_the_limit_is_a_413_in_json(client, auth, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/subscribers/import", data="x" * 2000,
                           headers={**auth("admin"), "Content-Type": "text/csv"})
    assert response.status_code == 413
    assert response.is_json


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("page=x", "page"), ("per_page=-5", "per_page"), ("per_page=1.5", "per_page"),
])
def test_bad_paging_arguments_are_422(client, auth, query, field):
    response = client.get(f"/api/v1/alerts?{query}", headers=auth("admin"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_per_page_is_capped(client, auth):
    body = client.get("/api/v1/alerts?per_page=100000", headers=auth("admin")).get_json()
    assert body == {"items": [], "page": 1, "per_page": 500, "total": 0}


def test_a_get_records_the_tokens_use_after_the_response_once_a_minute(client, settings, token):
    plaintext = token("auditor")
    headers = {"Authorization": f"Bearer {plaintext}"}

    # Written once the response is closed, as a WSGI server closes every response it sent.
    with client.get("/api/v1/alerts", headers=headers) as response:
        assert response.status_code == 200
    with session_scope(settings.database_url) as session:
        [first] = [t.last_used_at for t in session.query(ApiToken)]
    assert first is not None
    with client.get("/api/v1/alerts", headers=headers) as response:
        assert response.status_code == 200
    with session_scope(settings.database_url) as session:
        assert [t.last_used_at for t in session.query(ApiToken)] == [first]


@pytest.mark.slow
def test_gets_with_fresh_tokens_all_answer_while_inbound_texts_are_written(
        twilio_settings, token):
    """Issue 10: on SQLite 11 of 12 such GETs answered 500 "database is locked"."""
    settings = twilio_settings
    app = create_app(settings)
    tokens = [token("dispatcher", f"reader-{i}") for i in range(24)]
    writing, statuses, texts = threading.Event(), [], []

    def write_inbound_texts():
        client = app.test_client()
        for i in range(400):
            params = {"MessageSid": f"SM{i:032x}", "AccountSid": settings.twilio_account_sid,
                      "From": f"+1617253{i % 10000:04d}", "To": TWILIO_FROM_NUMBER,
                      "Body": "Is the shelter on Main St open?", "NumSegments": "1"}
            texts.append(signed_post(client, "/webhooks/twilio/sms", params, settings).status_code)
            writing.set()
            if stop.is_set():
                return

    def read(plaintext):
        client = app.test_client()
        writing.wait(10)
        for path in ("/api/v1/alerts", "/api/v1/inbox", "/api/v1/alerts?page=2"):
            with client.get(path, headers={"Authorization": f"Bearer {plaintext}"}) as response:
                statuses.append(response.status_code)

    stop = threading.Event()
    writer = threading.Thread(target=write_inbound_texts)
    readers = [threading.Thread(target=read, args=(t,)) for t in tokens]
    writer.start()
    for t in readers:
        t.start()
    for t in readers:
        t.join(60)
    stop.set()
    writer.join(60)

    assert statuses == [200] * (3 * len(tokens))
    assert set(texts) == {200}
    with session_scope(settings.database_url) as session:
        assert session.query(InboundMessage).count() == len(texts)
        assert all(t.last_used_at is not None for t in session.query(ApiToken))
