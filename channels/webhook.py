"""Partner systems (WEBHOOK_URLS): each public alert and each cancel POSTed as signed JSON.

`X-Tocsin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<body>")>`: the
partner recomputes it over the raw body and refuses an old `t` (replays). 2xx is sent; any other
answer, and a timeout, is retried on the usual schedule. Private, loopback and link-local
addresses are refused unless WEBHOOK_ALLOW_PRIVATE=1, judged on the addresses the host resolves
to — and the connection goes to exactly those, so a name that resolves elsewhere a second time
(DNS rebinding) cannot reach inside.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
from aiohttp.resolver import ThreadedResolver

from channels.base import Channel, ChannelError, Implementation, OutboundMessage, Receipt
from channels.targets import target_of, target_removed
from notifier import alerts, broadcast, cap

SIGNATURE_HEADER = "X-Tocsin-Signature"
TIMEOUT_SECONDS = 10
PRIVATE_ADDRESS = "private_address"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value partners check: `t=<timestamp>,v1=<hex digest>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def compose(session, settings, delivery, alert, now, cache: dict) -> OutboundMessage:
    """The JSON a partner gets: the event, the API's alert object and the CAP document."""
    target = target_of(session, settings, delivery, alert, cache, broadcast.WEBHOOK)
    if target is None:
        return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body="",
                               language=delivery.language, extra={"missing": True})
    key = ("webhook body", alert.id, delivery.event)
    if key not in cache:
        shown = cap.cancel_notice(alert, settings) if delivery.event == broadcast.ALERT_CANCELLED \
            else alert
        cache[key] = json.dumps({
            "event": delivery.event,
            "alert": alerts.alert_dict(session, alert, stats=False, settings=settings),
            "cap": cap.cap_document(session, shown, settings).decode("utf-8"),
        }, separators=(",", ":"), ensure_ascii=False)
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=cache[key],
                           language=delivery.language, extra={"url": target.url})


class PrivateAddress(OSError):
    """The target resolves to an address inside (private, loopback, link-local…)."""


def is_inside(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


class OutsideOnly(ThreadedResolver):
    """Resolves as usual and refuses the host when any of its addresses is inside."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        found = await super().resolve(host, port, family)
        inside = [r["host"] for r in found if is_inside(r["host"])]
        if inside:
            raise PrivateAddress(f"{host} resolves to an inside address ({inside[0]})")
        return found


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, settings, *, concurrency: int, per_second: float = 0, pace=None,
                 timeout: float = TIMEOUT_SECONDS):
        super().__init__(concurrency=concurrency, per_second=per_second, pace=pace)
        self.settings = settings
        self.timeout = timeout

    @asynccontextmanager
    async def session(self):
        resolver = None if self.settings.webhook_allow_private else OutsideOnly()
        connector = aiohttp.TCPConnector(limit=self.concurrency, resolver=resolver)
        async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)) as http:
            yield http

    async def send_one(self, http: aiohttp.ClientSession, message: OutboundMessage) -> Receipt:
        if message.extra.get("missing"):
            raise target_removed()
        url = message.extra["url"]
        host = urlsplit(url).hostname or ""
        if not self.settings.webhook_allow_private and _literal_inside(host):
            raise _private(f"{host} is an inside address")
        body = message.body.encode("utf-8")
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: signature(self.settings.webhook_secret or "", body,
                                               int(time.time()))}
        try:
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as answer:
                status = answer.status
        except aiohttp.ClientConnectorError as exc:
            if isinstance(getattr(exc, "os_error", None), PrivateAddress):
                raise _private(str(exc.os_error)) from None
            raise ChannelError(f"could not connect: {exc.os_error}", permanent=False,
                               code="connect_failed") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"no answer: {type(exc).__name__}", permanent=False,
                               code="timeout" if isinstance(exc, TimeoutError) else "http_error") \
                from None
        if not 200 <= status < 300:
            raise ChannelError(f"the partner answered HTTP {status}", permanent=False,
                               code=f"http_{status}")
        return Receipt(message.delivery_id, f"webhook-{message.delivery_id}")


def _literal_inside(host: str) -> bool:
    try:
        return is_inside(host.strip("[]"))
    except ValueError:
        return False  # a name: OutsideOnly judges what it resolves to


def _private(words: str) -> ChannelError:
    return ChannelError(f"{words}; set WEBHOOK_ALLOW_PRIVATE=1 to allow it", permanent=True,
                        code=PRIVATE_ADDRESS)


def build(settings, concurrency: int, per_second: float, pace) -> WebhookChannel:
    return WebhookChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace)


CHANNEL = Implementation("webhook", compose, build)
