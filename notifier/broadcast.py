"""Broadcast deliveries: one per social account or partner system, for public alerts only.

Only `Actual` alerts reach a broadcast channel; Exercise and Test never do, whatever the
dispatcher ticked — the rule lives here so the fan-out, the preview and the API agree. A
delivery's `address` is its target with the secret masked (`mastodon://mastodon.social #3fa2`):
the database and the pages never hold an account's token; the worker finds the real target
again by that mask among the configured ones.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from notifier import post_text, zone_overlap
from notifier.models import Zone
from notifier.public_ids import page_url

ALERT_SENT = "alert.sent"
ALERT_CANCELLED = "alert.cancelled"
SOCIAL, WEBHOOK = "social", "webhook"


@dataclass(frozen=True)
class Target:
    address: str  # masked: safe to store and show
    url: str  # with its secret: only ever in memory
    language: str | None  # the language to post (None: the default language)


def reaches_public(alert) -> bool:
    """Whether `alert` may go to public channels at all: only real alerts do."""
    return alert.status == "Actual"


def announces_cancel(alert, settings) -> bool:
    """Whether stopping `alert` is told to partner systems: a public alert that went out."""
    return reaches_public(alert) and alert.sent_at is not None and bool(settings.webhook_urls)


def mask(url: str) -> str:
    """`url` without its secrets: scheme and host, plus a short fingerprint telling two
    accounts on one host apart (a hash prefix: it says nothing of the token)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # host[:port], without user and password
    try:
        parts.port
    except ValueError:
        host = ""  # "bot:TOKEN": not a host and port at all
    # Where the host itself is a token (Telegram's bot token, Discord's webhook id), hide it.
    if not ("." in host or host.startswith("localhost") or host.startswith("[")):
        host = "…"
    fingerprint = hashlib.sha256(url.encode()).hexdigest()[:4]
    return f"{parts.scheme}://{host} #{fingerprint}"


_LANGUAGE_PREFIX = re.compile(r"^\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\s*:\s*(\S+://.*)$")


def parse_social_line(line: str) -> tuple[str | None, str]:
    """`es: mastodon://…` → ("es", "mastodon://…"); a line without a language → (None, line)."""
    found = _LANGUAGE_PREFIX.match(line)
    if found:
        return found.group(1), found.group(2).strip()
    return None, line.strip()


def social_targets(session: Session, alert, settings) -> list[Target]:
    """The agency's SOCIAL_URLS and the own accounts of every zone the alert's area touches."""
    lines = list(settings.social_urls)
    lines += [u for zone in touched_zones(session, alert) for u in (zone.social_urls or [])]
    return _unique(parse_social_line(line) for line in lines)


def webhook_targets(settings) -> list[Target]:
    return _unique((None, url) for url in settings.webhook_urls)


def targets(session: Session, alert, settings, channel: str) -> list[Target]:
    return social_targets(session, alert, settings) if channel == SOCIAL else webhook_targets(settings)


def _unique(pairs) -> list[Target]:
    seen: dict[str, Target] = {}
    for language, url in pairs:
        if url and (url, language) not in {(t.url, t.language) for t in seen.values()}:
            address = mask(url) if language is None else f"{mask(url)} {language}"
            seen.setdefault(address, Target(address, url, language))
    return list(seen.values())


def touched_zones(session: Session, alert) -> list[Zone]:
    """Zones with their own accounts that the alert names or overlaps (interiors meet; a shape
    along a zone's border only does not count): the zones its public page lists."""
    return [z for z in zone_overlap.zones_of(session, alert) if z.social_urls]


def rows_for(session: Session, alert, settings, event: str) -> list[dict]:
    """The broadcast deliveries `event` of `alert` makes (none for a non-public alert):
    social posts for a sent alert that chose social, a webhook call for every sent or
    cancelled alert (partners need not be chosen)."""
    if not reaches_public(alert):
        return []
    channels = [WEBHOOK]
    if event == ALERT_SENT and SOCIAL in (alert.channels or []):
        channels.insert(0, SOCIAL)
    rows = []
    for channel in channels:
        for target in targets(session, alert, settings, channel):
            rows.append({"alert_id": alert.id, "subscriber_id": None, "channel": channel,
                         "address": target.address, "event": event,
                         "language": target.language or settings.default_language})
    return rows


def find_target(session: Session, alert, settings, channel: str, address: str) -> Target | None:
    """The configured target a delivery's masked `address` stands for (None: no longer set)."""
    return next((t for t in targets(session, alert, settings, channel) if t.address == address),
                None)


def planned_posts(session: Session, alert, settings) -> list[dict]:
    """Each social post this alert would make, exactly as the worker will send it: [{address,
    language, text, length (as the service counts it), limit}]; none for a non-public alert."""
    if not reaches_public(alert) or SOCIAL not in (alert.channels or []):
        return []
    link = page_url(settings, alert)
    out = []
    for target in social_targets(session, alert, settings):
        language = target.language or settings.default_language
        limit = post_text.limit_for(target.url)
        text = post_text.post_for(alert, target.url, language, settings, link)
        out.append({"address": target.address, "language": language, "text": text,
                    "length": post_text.counted_length(text, link, limit),
                    "limit": limit.characters})
    return out
