"""The audit log page: who may read it, filters, paging, CSV export and the chain check."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from notifier import audit
from notifier.config import Settings
from notifier.db import session_scope

# 03:30 UTC on 15 Jan is 22:30 on 14 Jan in New York (and long before the sign-ins of a test).
T0 = datetime(2025, 1, 15, 3, 30, tzinfo=timezone.utc)


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({**env, "TIMEZONE": "America/New_York"})


@pytest.fixture
def events(settings):
    """Three events: two on 14 Jan (local), one on 16 Jan; one with a formula-like object."""
    with session_scope(settings.database_url) as session:
        ids = [audit.record(session, "user:ana", "alert.send", "alert:1", {"n": 1}, T0).id,
               audit.record(session, "user:bob", "zone.import", "=HYPERLINK(\"x\")", {},
                            T0 + timedelta(minutes=5)).id,
               audit.record(session, "api:gis", "alert.send", "alert:2", {"note": "später"},
                            T0 + timedelta(days=2)).id]
    return ids


def _rows(html: str) -> int:
    return html.count('<tr data-testid="event-')


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admins_and_auditors_read_the_log_newest_first_in_local_time(signed_in, events, role):
    html = signed_in(role).get("/audit").get_data(as_text=True)
    assert html.index(f'data-testid="event-{events[2]}"') < html.index(f'data-testid="event-{events[0]}"')
    assert "2025-01-14 22:30 EST" in html
    assert "alert:1" in html and "user:ana" in html and "später" in html


def test_dispatchers_may_not_read_the_log(signed_in):
    client = signed_in("dispatcher")
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert client.post("/audit/verify", data={"csrf_token": client.csrf}).status_code == 403


def test_filters_by_actor_action_object_and_local_days(signed_in, events):
    client = signed_in("auditor")
    assert _rows(client.get("/audit?actor=user:ana").get_data(as_text=True)) == 1
    assert _rows(client.get("/audit?action=alert.send").get_data(as_text=True)) == 2
    assert _rows(client.get("/audit?object=alert:2").get_data(as_text=True)) == 1
    # Local days: the first two events happened on the 14th in New York, not the 15th.
    day = client.get("/audit?from=2025-01-14&to=2025-01-14").get_data(as_text=True)
    assert _rows(day) == 2 and f'data-testid="event-{events[2]}"' not in day
    assert _rows(client.get("/audit?from=2025-01-15&to=2025-01-15").get_data(as_text=True)) == 0
    assert _rows(client.get("/audit?from=2025-01-16&to=2025-01-16").get_data(as_text=True)) == 1


def test_a_bad_date_range_is_explained(signed_in, events):
    client = signed_in("auditor")
    bad = client.get("/audit?from=14/01/2025")
    assert bad.status_code == 422 and 'data-testid="errors-from"' in bad.get_data(as_text=True)
    backwards = client.get("/audit?from=2025-01-16&to=2025-01-14")
    assert backwards.status_code == 422
    assert "before the start date" in backwards.get_data(as_text=True)


def test_the_log_is_paged_and_pages_keep_the_filters(signed_in, settings):
    with session_scope(settings.database_url) as session:
        for i in range(55):
            audit.record(session, "user:ana", "alert.send", f"alert:{i}", {}, T0)
    client = signed_in("auditor", "aude")
    first = client.get("/audit?action=alert.send").get_data(as_text=True)
    assert _rows(first) == 50
    assert 'href="/audit?page=2&amp;action=alert.send"' in first
    assert _rows(client.get("/audit?page=2&action=alert.send").get_data(as_text=True)) == 5


def test_the_csv_export_is_filtered_and_formula_safe(signed_in, events):
    client = signed_in("auditor")
    response = client.get("/audit.csv?actor=user:bob")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["id", "at", "actor", "action", "object", "details", "hash"]
    assert len(rows) == 2 and rows[1][2] == "user:bob"
    assert rows[1][4] == "'=HYPERLINK(\"x\")"  # a spreadsheet will not run it
    november = client.get("/audit.csv?from=2025-01-01&to=2025-01-31").get_data(as_text=True)
    assert [int(r[0]) for r in list(csv.reader(io.StringIO(november)))[1:]] == events  # oldest first


def test_verify_chain_reports_an_intact_log_and_is_recorded(signed_in, events, settings):
    client = signed_in("auditor", "aude")
    response = client.post("/audit/verify", data={"csrf_token": client.csrf})
    assert response.status_code == 200
    assert 'data-testid="verify-result" data-ok="true"' in response.get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        events, _ = audit.list_events(session, action="audit.verify")
        assert events[0].actor == "user:aude" and events[0].details == {"ok": True,
                                                                        "first_bad_id": None}


def test_verify_chain_finds_a_row_edited_with_sql(signed_in, events, settings):
    with session_scope(settings.database_url) as session:
        session.execute(text("UPDATE audit_events SET actor = 'user:mallory' WHERE id = :id"),
                        {"id": events[1]})
    client = signed_in("admin")
    html = client.post("/audit/verify", data={"csrf_token": client.csrf}).get_data(as_text=True)
    assert 'data-testid="verify-result" data-ok="false"' in html
    assert f"broken at event {events[1]}" in html


def test_verify_chain_needs_its_csrf_token(signed_in):
    assert signed_in("auditor").post("/audit/verify").status_code == 400
