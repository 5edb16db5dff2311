"""The CAP feed poller: every CAP_POLL_SECONDS, each new alert of the CAP_FEEDS becomes a draft.

A feed is one CAP document or an Atom feed of them (each entry's CAP embedded in it, or linked).
Feeds are read with conditional GETs (ETag, Last-Modified kept in `cap_feeds`), and an alert is
taken once by its CAP sender and identifier (`cap_imports`, so also across restarts). Nothing is
ever sent: a dispatcher finds the draft on the dashboard, checks it and sends it, or not.
When several workers run, the first to take a short Redis lock polls; the others skip the round.
`python -m workers.cap_poller` is the process each worker starts beside it when CAP_FEEDS is set.
"""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import redis
from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from notifier import cap, cap_import, cap_read
from notifier.config import Settings
from notifier.db import session_scope, use_audit_key
from notifier.errors import InvalidInput
from notifier.models import CapFeed, CapImport
from notifier.redact import safe_url
from notifier.redis_url import connect
from workers import side_process

log = logging.getLogger("workers.cap_poller")

LOCK_KEY = "tocsin:cap-poll:lock"
ACTOR = "system:cap-feed"
ATOM = "{http://www.w3.org/2005/Atom}"
ACCEPT = "application/cap+xml, application/atom+xml;q=0.9, application/xml;q=0.8"
TIMEOUT = 20  # seconds for one HTTP request
FEED_MAX_BYTES = 10 * 1024 * 1024  # a national Atom feed is a few MB; one CAP alert ≤ 1 MB
MAX_ENTRIES = 500


def poll(settings: Settings, now: datetime, connection: redis.Redis | None = None) -> dict | None:
    """One round over every feed; None when another worker holds this round's lock.

    Returns {"feeds", "not_modified", "drafts", "seen", "errors"}.
    """
    conn = connection or connect(settings.redis_url)
    lock_ms = max(1000, int(settings.cap_poll_seconds * 900))
    if not conn.set(LOCK_KEY, f"{socket.gethostname()}:{os.getpid()}", nx=True, px=lock_ms):
        return None
    use_audit_key(settings.database_url, settings.audit_key)  # imports are audited
    counts = {"feeds": 0, "not_modified": 0, "drafts": 0, "seen": 0, "errors": 0}
    for url in settings.cap_feeds:
        counts["feeds"] += 1
        try:
            poll_feed(settings, url, now, counts)
        except (OSError, InvalidInput, urllib.error.URLError) as exc:
            counts["errors"] += 1
            log.warning("CAP feed %s: %s", safe_url(url), exc)
            _remember(settings, url, now, error=str(exc)[:500])
    return counts


def poll_feed(settings: Settings, url: str, now: datetime, counts: dict) -> None:
    """Fetch one feed if it changed, and make a draft of each alert not taken before."""
    with session_scope(settings.database_url, readonly=True) as session:
        state = session.get(CapFeed, url)
        etag, modified = (state.etag, state.last_modified) if state else (None, None)
    answer = fetch(url, etag, modified, FEED_MAX_BYTES)
    if answer is None:
        counts["not_modified"] += 1
        _remember(settings, url, now)
        return
    body, headers = answer
    for source, xml in documents(body, url):
        try:
            take(settings, xml, source, now, counts)
        except (OSError, InvalidInput, urllib.error.URLError) as exc:
            counts["errors"] += 1
            log.warning("CAP feed %s, alert from %s: %s", safe_url(url), safe_url(source), exc)
    # The validators are kept only once every entry was handled: a round cut short repeats.
    _remember(settings, url, now, etag=headers.get("ETag"), modified=headers.get("Last-Modified"),
              changed=True)


def take(settings: Settings, xml: bytes | None, source: str, now: datetime, counts: dict) -> None:
    """Make a draft of one CAP document (fetched from `source` when `xml` is None) unless its
    sender and identifier were taken before."""
    with session_scope(settings.database_url, readonly=True) as session:
        if xml is None and session.scalars(select(CapImport.id).where(
                CapImport.source == source)).first() is not None:
            counts["seen"] += 1  # a linked document already taken: not fetched again
            return
    if xml is None:
        xml = fetch(source, None, None, cap_read.MAX_BYTES)[0]
    doc = cap_read.read_cap(xml)
    with session_scope(settings.database_url) as session:
        if cap_import.seen(session, doc["sender"], doc["identifier"]) is not None:
            counts["seen"] += 1
            return
        try:
            imported = cap_import.import_cap(session, xml, settings, ACTOR, now, source=source)
            session.flush()
        except IntegrityError:  # another poller took it in the meantime
            counts["seen"] += 1
            return
        log.info("CAP alert %s from %s is draft alert_id=%s", doc["identifier"],
                 safe_url(source), imported.alert.id)
    counts["drafts"] += 1


def documents(body: bytes, url: str) -> list[tuple[str, bytes | None]]:
    """[(source, CAP bytes or None to fetch from source)] of a feed: itself when it is one CAP
    document; for Atom, each entry's embedded <alert>, else its CAP link."""
    root = cap_read.read_root(body, FEED_MAX_BYTES)
    if root.tag == f"{{{cap.NS}}}alert":
        return [(url, body)]
    if root.tag != ATOM + "feed":
        raise InvalidInput({"feed": [f"{url} is neither a CAP alert nor an Atom feed"]})
    out = []
    for entry in root.findall(ATOM + "entry")[:MAX_ENTRIES]:
        embedded = entry.find(f".//{{{cap.NS}}}alert")
        if embedded is not None:
            out.append((url, etree.tostring(embedded, encoding="UTF-8", xml_declaration=True)))
            continue
        link = _cap_link(entry)
        if link:
            out.append((urljoin(url, link), None))
    return out


def _cap_link(entry) -> str | None:
    links = entry.findall(ATOM + "link")
    for wanted in (lambda link: "cap" in (link.get("type") or ""),
                   lambda link: link.get("rel", "alternate") == "alternate"):
        for link in links:
            if wanted(link) and link.get("href"):
                return link.get("href")
    return None


def fetch(url: str, etag: str | None, modified: str | None,
          limit: int) -> tuple[bytes, dict] | None:
    """(body, headers) of a GET, conditional when validators are given; None on 304.
    Raises OSError (urllib's errors) on a failure or an answer other than 200 or 304,
    InvalidInput over `limit` bytes."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidInput({"feed": [f"{url[:80]!r} is not an http(s) URL"]})
    headers = {"Accept": ACCEPT, "User-Agent": "Tocsin CAP poller"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read(limit + 1)
            found = dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise
    if len(body) > limit:
        raise InvalidInput({"feed": [f"{safe_url(url)} is larger than {limit // 1024} KB"]})
    return body, found


def _remember(settings: Settings, url: str, now: datetime, etag: str | None = None,
              modified: str | None = None, changed: bool = False, error: str | None = None):
    with session_scope(settings.database_url) as session:
        state = session.get(CapFeed, url) or CapFeed(url=url)
        if changed:
            state.etag, state.last_modified = (etag or "")[:500] or None, (modified or "")[:100] or None
        state.checked_at, state.last_error = now, error
        session.merge(state)


def start_process() -> subprocess.Popen:
    """Start this worker's CAP poller: `python -m workers.cap_poller`, a child that ends with it."""
    return side_process.start("workers.cap_poller")


def run(settings: Settings, parent: int) -> None:
    """Poll every `settings.cap_poll_seconds` while process `parent` lives."""
    every = settings.cap_poll_seconds
    conn = connect(settings.redis_url, socket_timeout=30, socket_connect_timeout=30)
    side_process.repeat(lambda now: poll(settings, now, conn), every, parent, "CAP poll")


def main(argv: list[str] | None = None) -> int:
    return side_process.main("python -m workers.cap_poller", "Poll CAP_FEEDS and make drafts of new alerts.", run, argv)


if __name__ == "__main__":
    sys.exit(main())
