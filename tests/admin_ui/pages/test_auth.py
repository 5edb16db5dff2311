"""Sign-in, sign-out, throttling, the client address, auditing failures, CSRF and the page guard."""
from __future__ import annotations

import dataclasses
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from admin_ui import create_app
from notifier import login_policy
from notifier.db import session_scope
from notifier.models import AuditEvent, User
from tests.admin_ui.pages.conftest import (PASSWORD, csrf_token, page_client, post_code,
                                           second_step, sign_in, sign_in_with_code)


def test_the_root_sends_a_signed_out_visitor_to_the_sign_in_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_the_sign_in_form_has_labelled_username_and_password_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="username">', html) and 'id="username"' in html
    assert re.search(r'<label for="password">', html) and 'type="password"' in html


def test_a_dispatcher_signs_in_and_lands_on_the_alert_list(client, user):
    response = sign_in_with_code(client, user("dana", "dispatcher"))
    assert response.status_code == 302 and response.location.endswith("/alerts")
    assert client.get("/alerts").status_code == 200
    assert client.get("/").location.endswith("/alerts")


def test_an_admin_lands_on_the_dashboard(client, user):
    response = sign_in_with_code(client, user("ada", "admin"))
    assert response.location.endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="workers"' in page.get_data(as_text=True)


def test_a_wrong_password_is_refused_and_recorded_in_the_audit_log(client, user, settings):
    response = sign_in(client, user("dana", "dispatcher"), "not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/alerts").status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["user.login_failed"]


def test_sign_in_is_throttled_after_five_failures_even_with_the_right_password(client, user):
    name = user("dana", "dispatcher")
    for _ in range(5):
        assert sign_in(client, name, "wrong password").status_code == 401
    response = sign_in(client, name, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/alerts").status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, user):
    name = user("dana", "dispatcher")
    for _ in range(4):
        sign_in(client, name, "wrong password")
    assert sign_in_with_code(client, name).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/alerts").get_data(as_text=True))})
    for _ in range(4):
        sign_in(client, name, "wrong password")
    assert sign_in_with_code(client, name).status_code == 302


def test_a_form_post_without_its_csrf_token_is_refused(client, user):
    name = user("dana", "dispatcher")
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/alerts").status_code == 302


def test_signed_in_posts_without_a_csrf_token_are_refused(signed_in):
    client = signed_in("dispatcher")
    assert client.post("/logout").status_code == 400
    assert client.post("/alerts/sms-info.json", json={"text": "hi"}).status_code == 400
    assert client.get("/alerts").status_code == 200  # still signed in


def test_api_posts_need_no_csrf_token(client, auth):
    response = client.post("/api/v1/alerts/preview", headers=auth("dispatcher"), json={})
    assert response.status_code == 422  # validation, not a CSRF refusal


def test_signing_out_ends_the_session(signed_in):
    client = signed_in("dispatcher")
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 302
    assert client.get("/alerts").location.startswith("/login")


def test_a_disabled_user_is_signed_out_at_the_next_request(signed_in, settings):
    client = signed_in("dispatcher", "dana")
    with session_scope(settings.database_url) as session:
        session.scalar(select(User).where(User.name == "dana")).active = False
    assert client.get("/alerts").status_code == 302


def test_after_sign_in_the_visitor_returns_to_the_page_asked_for_but_never_off_site(client, user):
    name = user("dana", "dispatcher")
    first = client.get("/alerts/new")
    assert first.status_code == 302 and "next=" in first.location
    token = csrf_token(client.get(first.location).get_data(as_text=True))
    response = second_step(client, name, client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                        "next": "/alerts/new"}))
    assert response.location.endswith("/alerts/new")
    token = csrf_token(client.get("/alerts").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = second_step(client, name, client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                        "next": "//evil.example/x"}))
    assert response.location.endswith("/alerts")


def _page_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("auth", "alerts", "dashboard"):
            yield rule


def test_every_page_route_sends_a_signed_out_visitor_to_sign_in(app, client):
    public = {"auth.root", "auth.login"}
    checked = 0
    for rule in _page_rules(app):
        if rule.endpoint in public:
            continue
        path = rule.rule.replace("<id:alert_id>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            data = {"csrf_token": csrf_token(client.get("/login").get_data(as_text=True))}
            response = client.open(path, method=method, data=data if method == "POST" else None)
            if path.endswith(".json"):
                assert response.status_code == 401, (method, path)
            else:
                assert response.status_code == 302, (method, path)
                assert "/login" in response.location, (method, path)
            checked += 1
    assert checked >= 10


def test_roles_are_enforced_on_pages(signed_in):
    auditor = signed_in("auditor")
    assert auditor.get("/alerts").status_code == 200
    assert auditor.get("/alerts/new").status_code == 403
    assert auditor.post("/alerts/new", data={"csrf_token": auditor.csrf}).status_code == 403
    assert auditor.get("/dashboard").status_code == 403
    dispatcher = signed_in("dispatcher")
    assert dispatcher.get("/alerts/new").status_code == 200
    assert dispatcher.get("/dashboard").status_code == 200
    assert dispatcher.get("/admin/users").status_code == 403


def test_the_pages_speak_spanish_when_asked(signed_in):
    client = signed_in("dispatcher")
    html = client.get("/alerts/new?lang=es").get_data(as_text=True)
    assert 'lang="es"' in html and "Nueva alerta" in html
    assert "Nueva alerta" in client.get("/alerts/new").get_data(as_text=True)  # kept in the session


# -- who the client is (TRUSTED_PROXIES), and limits that hold per account and address --------

ATTACKER, DANA_AT_HOME = "198.51.100.7", "203.0.113.9"


def _app(settings, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app.config["TESTING"] = True
    return app


def _from(app, forwarded_for: str):
    """A browser whose requests reach the app through a proxy adding `forwarded_for`."""
    client = page_client(app)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def _failed_events(settings) -> list[AuditEvent]:
    with session_scope(settings.database_url, readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.login_failed").order_by(AuditEvent.id)))


@pytest.mark.parametrize("proxies, expected", [(1, "198.51.100.7"), (2, "10.9.9.9")])
def test_behind_n_trusted_proxies_the_client_is_the_nth_forwarded_for_entry_from_the_right(
        settings, user, proxies, expected):
    app = _app(settings, trusted_proxies=proxies)
    client = _from(app, "192.0.2.66, 10.9.9.9, 198.51.100.7")  # the left one is the client's lie
    assert sign_in(client, user("dana", "dispatcher"), "wrong password").status_code == 401
    [event] = _failed_events(settings)
    assert event.details["address"] == expected


def test_without_trusted_proxies_the_forwarded_for_header_is_ignored(app, settings, user):
    name = user("dana", "dispatcher")
    for _ in range(5):
        assert sign_in(_from(app, ATTACKER), name, "wrong password").status_code == 401
    assert _failed_events(settings)[0].details["address"] == "127.0.0.1"
    # A made-up header does not make a new address that escapes the limit.
    assert sign_in(_from(app, DANA_AT_HOME), name).status_code == 429


def test_a_parallel_burst_gets_at_most_the_limit_past_the_password_check(settings, user):
    name = user("dana", "dispatcher")
    app = _app(settings)
    burst = 12
    clients = [page_client(app) for _ in range(burst)]
    tokens = [csrf_token(c.get("/login").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(burst)

    def attempt(i: int) -> int:
        barrier.wait()
        return clients[i].post("/login", data={"username": name, "password": "wrong password",
                                               "csrf_token": tokens[i]}).status_code

    with ThreadPoolExecutor(burst) as pool:
        statuses = list(pool.map(attempt, range(burst)))
    assert sorted(statuses) == [401] * login_policy.MAX_FAILURES + [429] * (burst - 5), statuses


def test_failures_from_one_address_never_refuse_the_right_password_and_code_from_another(
        settings, user):
    app = _app(settings, trusted_proxies=1)
    name = user("dana", "dispatcher")
    assert sign_in_with_code(_from(app, DANA_AT_HOME), name).location.endswith("/alerts")
    attacker = _from(app, ATTACKER)
    statuses = [sign_in(attacker, name, f"guess {i}").status_code for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    # Someone with the password but not the phone, wrong codes until refused there …
    halfway = _from(app, ATTACKER + "9")
    assert sign_in(halfway, name).location.endswith("/login/code")
    codes = [post_code(halfway, "/login/code", "000000").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # … and Dana at home still signs in at once with her password and a code.
    home = _from(app, DANA_AT_HOME)
    response = sign_in_with_code(home, name)
    assert response.status_code == 302 and response.location.endswith("/alerts")
    assert home.get("/alerts").status_code == 200


def test_one_password_sprayed_over_many_names_from_one_address_is_refused(settings, user):
    app = _app(settings, trusted_proxies=1)
    names = [user(f"user-{i}", "dispatcher") for i in range(3)] + [f"guess-{i}" for i in range(27)]
    sprayer = _from(app, ATTACKER)
    responses = [sign_in(sprayer, name, "Winter2026!") for name in names]
    statuses = [r.status_code for r in responses]
    assert statuses == [401] * login_policy.ADDRESS_LIMIT + [429] * 10
    refused = responses[-1]
    assert "Too many failed sign-ins from this address" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= login_policy.WINDOW_SECONDS
    # The right password of a sprayed account at another address is not refused.
    assert sign_in_with_code(_from(app, DANA_AT_HOME), "user-0").location.endswith("/alerts")


def test_a_failed_sign_in_names_an_existing_account_but_never_stores_an_unknown_name(
        client, user, settings):
    user("dana", "dispatcher")
    typed = "correct horse battery"  # the password, typed into the name box
    assert sign_in(client, typed, "dana").status_code == 401
    assert sign_in(client, "dana", "wrong password").status_code == 401
    unknown, known = _failed_events(settings)
    assert known.object == "user:dana"
    assert unknown.object == "name:" + login_policy.name_fingerprint(typed, settings.secret_key)
    for event in (unknown, known):
        assert "horse" not in f"{event.object} {event.details}"


def test_a_thousand_failed_anonymous_sign_ins_add_only_a_few_audit_rows(client, settings):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"username": f"nobody-{i}", "password": "guess",
                                            "csrf_token": token}).status_code
                for i in range(1000)]
    assert statuses.count(401) == login_policy.ADDRESS_LIMIT and statuses.count(429) == 980
    with session_scope(settings.database_url, readonly=True) as session:
        rows = session.scalars(select(AuditEvent)).all()
    # 1, 2, 4, 8, 16 of the 20 failures, and 1, 2, 4, … 512 of the 980 refusals.
    assert len(rows) == 5 + 10
    assert {r.action for r in rows} == {"user.login_failed", "user.login_throttled"}
    assert max(r.details.get("refused", 0) for r in rows) == 512


def test_unknown_names_from_many_addresses_are_audited_together(settings):
    app = _app(settings, trusted_proxies=1)
    for i in range(20):
        assert sign_in(_from(app, f"192.0.2.{i}"), f"nobody-{i}", "guess").status_code == 401
    events = _failed_events(settings)
    assert [e.details["unknown_name_failures"] for e in events] == [1, 2, 4, 8, 16]
