"""Broadcast deliveries: only Actual alerts reach public channels; targets are masked, found
again by their mask, and a zone's own accounts join when the alert touches it."""
from __future__ import annotations

import pytest

from notifier import broadcast, deliveries
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert, Zone
from tests.workers.helpers import add_alert, now

SOCIAL = "mastodon://secret-token-1@mastodon.example\nes: mastodon://secret-token-2@mastodon.example"
HOOK = "https://partner.example/tocsin?key=hunter2"


def square(west, south, size=0.02):
    return {"type": "Polygon", "coordinates": [[[west, south], [west + size, south],
                                                [west + size, south + size], [west, south + size],
                                                [west, south]]]}


@pytest.fixture
def public(env) -> Settings:
    return Settings.from_env({**env, "SOCIAL_URLS": SOCIAL, "WEBHOOK_URLS": HOOK,
                              "WEBHOOK_SECRET": "s" * 32})


@pytest.mark.parametrize("status", ["Actual", "Exercise", "Test", "System", "Draft"])
def test_only_actual_alerts_make_broadcast_deliveries_whatever_was_ticked(db_url, public, status):
    alert_id = add_alert(db_url, status=status, channels=("sms", "social"))
    with session_scope(db_url) as session:
        rows = broadcast.rows_for(session, session.get(Alert, alert_id), public, broadcast.ALERT_SENT)
        cancel = broadcast.rows_for(session, session.get(Alert, alert_id), public,
                                    broadcast.ALERT_CANCELLED)
    if status == "Actual":
        assert sorted((r["channel"], r["language"]) for r in rows) == [
            ("social", "en"), ("social", "es"), ("webhook", "en")]
        assert [r["channel"] for r in cancel] == ["webhook"]  # partners hear of cancels
    else:
        assert rows == [] and cancel == []


def test_addresses_hide_the_secrets_and_lead_back_to_the_target(db_url, public):
    alert_id = add_alert(db_url, channels=("social",))
    with session_scope(db_url) as session:
        alert = session.get(Alert, alert_id)
        rows = broadcast.rows_for(session, alert, public, broadcast.ALERT_SENT)
        for row in rows:
            assert "secret" not in row["address"] and "hunter2" not in row["address"]
            assert row["subscriber_id"] is None and row["event"] == broadcast.ALERT_SENT
            found = broadcast.find_target(session, alert, public, row["channel"], row["address"])
            assert found is not None and found.address == row["address"]
        assert len({r["address"] for r in rows}) == 3  # two accounts on one host stay apart
        assert broadcast.find_target(session, alert, public, "social", "mastodon://x #0000") is None


def test_a_fan_out_run_twice_writes_each_broadcast_delivery_once(db_url, public):
    alert_id = add_alert(db_url, channels=("social",))
    with session_scope(db_url) as session:
        rows = broadcast.rows_for(session, session.get(Alert, alert_id), public, broadcast.ALERT_SENT)
        first = deliveries.insert_broadcast(session, rows, now())
        again = deliveries.insert_broadcast(session, rows, now())
    assert len(first) == 3 and again == []


def test_a_zone_posts_to_its_own_accounts_when_the_area_overlaps_it_not_when_it_only_touches(
        db_url, env):
    settings = Settings.from_env(env)
    with session_scope(db_url) as session:
        session.add(Zone(code="beat-2", name="Beat 2", geometry=square(-71.06, 42.35),
                         keywords=[], social_urls=["ntfy://ntfy.example/beat2"]))
    inside = add_alert(db_url, channels=("social",), area={"geojson": square(-71.05, 42.355)})
    along = add_alert(db_url, channels=("social",), area={"geojson": square(-71.04, 42.35)})
    named = add_alert(db_url, channels=("social",), area={"zones": ["beat-2"]})
    with session_scope(db_url) as session:
        def targets(alert_id):
            return [t.url for t in broadcast.social_targets(session, session.get(Alert, alert_id),
                                                            settings)]
        assert targets(inside) == ["ntfy://ntfy.example/beat2"]
        assert targets(along) == []
        assert targets(named) == ["ntfy://ntfy.example/beat2"]


def test_a_language_prefix_picks_the_text_and_a_url_scheme_is_not_one():
    assert broadcast.parse_social_line("es: mastodon://t@h") == ("es", "mastodon://t@h")
    assert broadcast.parse_social_line("zh-Hant:tgram://bot/chat") == ("zh-Hant", "tgram://bot/chat")
    assert broadcast.parse_social_line("json://127.0.0.1:8080/x") == (None, "json://127.0.0.1:8080/x")
    assert broadcast.mask("tgram://123456:ABCDEF/-100200") .startswith("tgram://… #")
