"""Public posts through Apprise: Mastodon, Bluesky, X, Telegram, Discord, Slack, Teams, ntfy,
Matrix and every other service an Apprise URL names (SOCIAL_URLS, and zones' own accounts).

The post's text is sized by notifier.post_text (Apprise sends what it is given); a failed post
is retried like any delivery, with Apprise's own words about it as the error (URLs masked).
"""
from __future__ import annotations

import logging
import re
from datetime import datetime

import apprise

from channels.base import Channel, ChannelError, Implementation, OutboundMessage, Receipt
from channels.targets import target_of, target_removed
from notifier import broadcast, post_text
from notifier.public_ids import page_url

log = logging.getLogger("channels.social")

_URL = re.compile(r"\S+://\S+")
# Apprise's words for "this URL names no service we know" (the target can never work).
BAD_URL = "bad_url"


def compose(session, settings, delivery, alert, now: datetime, cache: dict) -> OutboundMessage:
    """The post for one target: its text exactly as sent, sized for that service."""
    target = target_of(session, settings, delivery, alert, cache, broadcast.SOCIAL)
    if target is None:
        return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body="",
                               language=delivery.language, extra={"missing": True})
    body = post_text.post_for(alert, target.url, delivery.language, settings,
                              page_url(settings, alert))
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=body,
                           language=delivery.language, extra={"url": target.url})


def unknown_urls(lines) -> list[str]:
    """The masked entries of `lines` (SOCIAL_URLS, `LANG:` allowed) that name no service Apprise
    knows: they would fail at the first post, so the dashboard says so before."""
    bad = []
    for line in lines:
        url = broadcast.parse_social_line(line)[1]
        if not apprise.Apprise().add(url):
            bad.append(broadcast.mask(url))
    return bad


class SocialChannel(Channel):
    """Posts each message with Apprise to the one service its target URL names."""

    name = "social"

    async def send_one(self, session, message: OutboundMessage) -> Receipt:
        if message.extra.get("missing"):
            raise target_removed()
        poster = apprise.Apprise()
        if not poster.add(message.extra["url"]):
            raise ChannelError("Apprise does not know this kind of URL", permanent=True,
                               code=BAD_URL)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            result = await poster.async_notify(body=message.body, title="")
        if not result:
            words = (captured.getvalue().strip().splitlines() or ["the service refused it"])[-1]
            # "2026-12-02 … - WARNING - Failed to send Mastodon…": Apprise's words, no URL.
            words = _URL.sub(lambda m: broadcast.mask(m.group(0)), words.split(" - ", 2)[-1])
            raise ChannelError(words[:300], permanent=False, code="post_failed")
        return Receipt(message.delivery_id, f"post-{message.delivery_id}")


def build(settings, concurrency: int, per_second: float, pace) -> SocialChannel:
    return SocialChannel(concurrency=concurrency, per_second=per_second, pace=pace)


CHANNEL = Implementation("social", compose, build)
