"""The CAP feed poller against a feed served on 127.0.0.1: new alerts become drafts, once each,
with conditional GETs; nothing is sent."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert, AuditEvent, CapFeed, CapImport, Delivery
from tests.support.peers import PEERS
from tests.workers.helpers import LEAKY
from workers import cap_poller

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
NS = "urn:oasis:names:tc:emergency:cap:1.2"


def cap_alert(identifier: str, headline: str = "Flood warning") -> str:
    return (f'<alert xmlns="{NS}"><identifier>{identifier}</identifier>'
            "<sender>w-nws.webmaster@noaa.gov</sender><sent>2026-11-22T02:00:00-00:00</sent>"
            "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
            "<info><category>Met</category><event>Flood</event><urgency>Expected</urgency>"
            "<severity>Severe</severity><certainty>Likely</certainty>"
            f"<headline>{headline}</headline><description>The river rises.</description>"
            "<area><areaDesc>Riverside</areaDesc><circle>42.3,-71.1 2</circle></area>"
            "</info></alert>")


class Feed:
    """An Atom-of-CAP feed with an ETag: entries embed their CAP or link to it."""

    def __init__(self):
        self.embedded = {"NWS-1": cap_alert("NWS-1")}
        self.linked = {"NWS-2": cap_alert("NWS-2", "River flood watch")}
        self.requests: list[tuple[str, dict]] = []
        self.version = 1
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                feed.requests.append((self.path, dict(self.headers.items())))
                if self.path == "/feed.atom":
                    etag = f'"v{feed.version}"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    self._answer(feed.atom().encode(), "application/atom+xml", etag)
                elif self.path.startswith("/cap/") and self.path[5:] in feed.linked:
                    self._answer(feed.linked[self.path[5:]].encode(), "application/cap+xml")
                elif self.path == "/one.xml":
                    self._answer((PEERS / "cap" / "oasis_a4_amber_alert_en_es.xml").read_bytes(),
                                 "application/cap+xml")
                else:
                    self.send_response(404)
                    self.end_headers()

            def _answer(self, body: bytes, kind: str, etag: str | None = None):
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", "Sun, 22 Nov 2026 02:00:00 GMT")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def atom(self) -> str:
        entries = [f"<entry><id>{i}</id><title>{i}</title><content type='text/xml'>{xml}"
                   "</content></entry>" for i, xml in self.embedded.items()]
        entries += [f"<entry><id>{i}</id><title>{i}</title><link rel='alternate' "
                    f"type='application/cap+xml' href='/cap/{i}'/></entry>" for i in self.linked]
        return ("<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                f"<id>urn:test</id><title>Test alerts</title>{''.join(entries)}</feed>")

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def feed():
    served = Feed()
    yield served
    served.server.shutdown()


@pytest.fixture
def poll_settings(env, feed) -> Settings:
    return Settings.from_env({**env, "CAP_FEEDS": f"{feed.url}/feed.atom"})


def poll_once(settings: Settings) -> dict:
    conn = redis.Redis.from_url(settings.redis_url)
    conn.delete(cap_poller.LOCK_KEY)  # each call is the next round
    return cap_poller.poll(settings, NOW, conn)


def drafts(db_url: str) -> list[Alert]:
    with session_scope(db_url) as session:
        rows = session.scalars(select(Alert).order_by(Alert.id)).all()
        session.expunge_all()
        return rows


def test_new_alerts_become_drafts_once_with_conditional_gets(poll_settings, feed, db_url):
    first = poll_once(poll_settings)
    assert first == {"feeds": 1, "not_modified": 0, "drafts": 2, "seen": 0, "errors": 0}
    made = drafts(db_url)
    assert [(a.state, a.headline, a.created_by) for a in made] == [
        ("draft", "Flood warning", cap_poller.ACTOR), ("draft", "River flood watch", cap_poller.ACTOR)]
    assert made[0].area["circles"] == [{"lat": 42.3, "lon": -71.1, "radius_m": 2000.0}]
    assert "If-None-Match" not in feed.requests[0][1]

    second = poll_once(poll_settings)  # unchanged: the server answers 304
    assert second["not_modified"] == 1 and second["drafts"] == 0
    assert feed.requests[-1][1]["If-None-Match"] == '"v1"'
    assert feed.requests[-1][1]["If-Modified-Since"] == "Sun, 22 Nov 2026 02:00:00 GMT"

    feed.embedded["NWS-3"] = cap_alert("NWS-3", "Flash flood warning")
    feed.version = 2
    third = poll_once(poll_settings)
    assert third["drafts"] == 1 and third["seen"] == 2
    assert [a.headline for a in drafts(db_url)][-1] == "Flash flood warning"
    # The linked document already taken is not fetched again.
    assert feed.paths().count("/cap/NWS-2") == 1
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(CapImport)) == 3
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "alert.import_cap")) == 3


def test_validators_lost_still_take_nothing_twice(poll_settings, feed, db_url):
    poll_once(poll_settings)
    with session_scope(db_url) as session:  # as after a restart with the feed rows gone
        session.query(CapFeed).delete()
    again = poll_once(poll_settings)
    assert again["drafts"] == 0 and again["seen"] == 2
    assert len(drafts(db_url)) == 2


def test_only_one_poller_acts_per_round(poll_settings, feed, db_url):
    conn = redis.Redis.from_url(poll_settings.redis_url)
    conn.delete(cap_poller.LOCK_KEY)
    assert cap_poller.poll(poll_settings, NOW, conn) is not None
    assert cap_poller.poll(poll_settings, NOW, conn) is None  # a second worker, same round
    assert len(drafts(db_url)) == 2


def test_a_plain_cap_document_is_a_feed_too(env, feed, db_url):
    settings = Settings.from_env({**env, "CAP_FEEDS": f"{feed.url}/one.xml"})
    assert poll_once(settings)["drafts"] == 1
    assert list(drafts(db_url)[0].messages) == ["en-US", "es-US"]


def test_a_bad_entry_or_feed_does_not_stop_the_others(env, feed, db_url):
    feed.embedded["BAD"] = f'<alert xmlns="{NS}"><identifier>BAD</identifier></alert>'
    settings = Settings.from_env({**env, "CAP_FEEDS": f"{feed.url}/missing,{feed.url}/feed.atom"})
    counts = poll_once(settings)
    assert counts["errors"] == 2 and counts["drafts"] == 2
    with session_scope(db_url) as session:
        assert "404" in session.get(CapFeed, f"{feed.url}/missing").last_error


def test_the_poller_process_runs_beside_a_worker_without_an_operator(env, feed, db_url):
    """`python -m workers.cap_poller`, as `python -m workers` starts it, makes the drafts."""
    child_env = {**{k: v for k, v in os.environ.items() if k not in LEAKY}, **env,
                 "CAP_FEEDS": f"{feed.url}/feed.atom", "CAP_POLL_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "workers.cap_poller", "--parent",
                             str(os.getpid())], cwd=ROOT, env=child_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(drafts(db_url)) < 2:
            time.sleep(0.2)
        assert len(drafts(db_url)) == 2, proc.stderr.read1().decode() if proc.poll() else ""
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("raw", ["ftp://example.org/feed", "not a url"])
def test_a_bad_feed_url_stops_start_up_naming_the_variable(env, raw):
    from notifier.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "CAP_FEEDS": raw})
    assert caught.value.variable == "CAP_FEEDS"


def test_feeds_are_read_one_a_line_or_comma_separated(env):
    settings = Settings.from_env({**env, "CAP_FEEDS": "https://a.example/x\nhttps://b.example/y, "
                                                      "https://c.example/z"})
    assert settings.cap_feeds == ("https://a.example/x", "https://b.example/y", "https://c.example/z")
    assert Settings.from_env(env).cap_poll_seconds == 60
    from notifier.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "CAP_POLL_SECONDS": "0"})
    assert caught.value.variable == "CAP_POLL_SECONDS"
