"""The official Twilio client on aiohttp, redirected by TWILIO_API_BASE_URL and quiet about residents."""
from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import re
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import quote_plus, urlencode, urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels.base import Channel, ChannelError
from notifier.config import Settings
from notifier.failover import BAD_NUMBER, LANDLINE

# Our own logger: twilio's log_request/log_response would print URLs (with query filters
# such as To=…) and headers at INFO; we log method, path and status only, at DEBUG.
log = logging.getLogger("channels.twilio")

REQUEST_TIMEOUT = 15.0

# The response headers of the last Twilio call made by the current task. twilio-python drops
# headers when it raises TwilioRestException, so Retry-After is read back from here. Each
# message is sent in its own task (asyncio.gather), so concurrent sends never see each other's.
last_headers: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "twilio_last_headers", default=None)

# Twilio's own messages name the number ("The 'To' number +1555… is not valid"): the error text
# ends up in the delivery row and logs, so digits that look like a phone number are redacted.
_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")


FORM = "application/x-www-form-urlencoded"
# A batch sends a few texts to many numbers: each distinct text (and field name) is quoted once
# rather than per message, a character at a time (a tenth of a message's CPU with quote_plus).
_quote = lru_cache(maxsize=256)(quote_plus)


class RedirectingHttpClient(AsyncTwilioHttpClient):
    """twilio's aiohttp client with a host rewrite, a sized connection pool and a timeout.

    twilio-python has no base-URL setting, so every `https://*.twilio.com/…` URL it builds is
    rewritten to `base_url` keeping path and query. Must be created inside a running event loop.
    """

    def __init__(self, base_url: str | None = None, *, limit: int = 100,
                 timeout: float = REQUEST_TIMEOUT):
        # pool_connections=False: the parent would open a default session (100 connections,
        # no timeout); ours is sized to the channel's concurrency instead.
        super().__init__(pool_connections=False, timeout=timeout, logger=log)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._rewritten: dict[str, str] = {}  # a batch posts to one URL: split it once
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(1, limit), limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    def rewrite(self, url: str) -> str:
        """Return `url` on the configured base URL when it points at Twilio; else unchanged."""
        if not self.base_url:
            return url
        rewritten = self._rewritten.get(url)
        if rewritten is None:
            if len(self._rewritten) >= 64:  # fetches by SID are many different URLs
                self._rewritten.clear()
            rewritten = self._rewritten[url] = self._rewrite(url)
        return rewritten

    def _rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path}{query}"

    async def request(self, method, url, params=None, data=None, headers=None, auth=None,
                      timeout=None, allow_redirects=False) -> Response:
        url = self.rewrite(url)
        if auth:
            headers = {**(headers or {}), "Authorization": _basic_auth(*auth)}
        kwargs = {}
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        if isinstance(data, dict):
            # Encoded here rather than by aiohttp's FormData, which costs more per request
            # than the rest of the call; `doseq` sends list values (StatusCallbackEvent) as
            # repeated fields, as Twilio expects.
            data = urlencode(data, doseq=True, quote_via=_quote).encode("ascii")
            headers = {**(headers or {}), "Content-Type": FORM}
        async with self.session.request(method.upper(), url, params=params, data=data,
                                        headers=headers,
                                        allow_redirects=allow_redirects, **kwargs) as resp:
            text = await resp.text()
            last_headers.set(resp.headers)
            if log.isEnabledFor(logging.DEBUG):  # urlsplit per message only when it is shown
                log.debug("Twilio %s %s -> %s", method.upper(), urlsplit(url).path, resp.status)
            return Response(resp.status, text, resp.headers)

    async def close(self):
        await self.session.close()


@lru_cache(maxsize=8)
def _basic_auth(username: str, password: str) -> str:
    # aiohttp deprecates its `auth=` argument; the header is built once per credential pair.
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def make_client(settings: Settings, *, limit: int = 100,
                timeout: float = REQUEST_TIMEOUT) -> Client:
    """Return a `twilio.rest.Client` on a `RedirectingHttpClient`; call inside the event loop."""
    http = RedirectingHttpClient(settings.twilio_api_base_url, limit=limit, timeout=timeout)
    # A non-empty `environment` stops twilio reading TWILIO_EDGE/TWILIO_REGION from os.environ:
    # settings are read once, in notifier.config.
    return Client(settings.twilio_account_sid, settings.twilio_auth_token,
                  account_sid=settings.twilio_account_sid, http_client=http,
                  environment={"TOCSIN": "settings come from notifier.config"})


@asynccontextmanager
async def twilio_session(settings: Settings, *, limit: int = 100,
                         timeout: float = REQUEST_TIMEOUT) -> AsyncIterator[Client]:
    """Yield a Twilio client whose connections are closed on exit (a `Channel.session()`)."""
    client = make_client(settings, limit=limit, timeout=timeout)
    try:
        yield client
    finally:
        await client.http_client.close()


def redact(text: str) -> str:
    """Return `text` with anything that looks like a phone number replaced by `[number]`."""
    return _PHONE_LIKE.sub("[number]", text)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form), or None."""
    if not headers:
        return None
    raw = headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:  # the HTTP-date form: Twilio does not send it; retry on our schedule
        return None


PERMANENT, TEMPORARY, OPT_OUT = "permanent", "temporary", "opt-out"

# Twilio error codes that say what the number is, so another of the resident's channels may
# reach them (notifier.failover). Refusals of a request and ErrorCodes of status callbacks.
FAILOVER_CODES = {
    21614: LANDLINE,    # 'To' number is not a mobile number
    21635: LANDLINE,    # 'To' number cannot be a landline
    30006: LANDLINE,    # landline or unreachable carrier (status callback)
    21211: BAD_NUMBER,  # invalid 'To' phone number
    21217: BAD_NUMBER,  # phone number does not appear to be valid
    13223: BAD_NUMBER,  # phone number format is not valid (calls)
    13224: BAD_NUMBER,  # not a valid destination (calls)
    30005: BAD_NUMBER,  # unknown destination handset: no longer in service (status callback)
}


def failover_kind(code: int | str | None) -> str | None:
    """What Twilio error `code` says of the number (notifier.failover), or None."""
    try:
        return FAILOVER_CODES.get(int(code)) if code is not None else None
    except (TypeError, ValueError):
        return None


def channel_error(exc: BaseException, codes: Mapping[int, str]) -> ChannelError:
    """Translate what twilio/aiohttp raised into a ChannelError, using `codes` first.

    `codes` maps Twilio error codes to PERMANENT, TEMPORARY or OPT_OUT. Without an entry:
    HTTP 429 and 5xx are temporary, other 4xx permanent; timeouts and connection errors are
    temporary; other twilio exceptions (an unreadable answer) are temporary too.
    """
    if isinstance(exc, TwilioRestException):
        status = int(exc.status or 0)
        code = exc.code if isinstance(exc.code, int) and exc.code != status else None
        kind = codes.get(code) if code is not None else None
        if kind is None:
            kind = TEMPORARY if status == 429 or status >= 500 else PERMANENT
        message = redact(str(exc.msg or f"HTTP {status}"))
        wait = retry_after(last_headers.get()) if kind == TEMPORARY else None
        return ChannelError(message, permanent=kind != TEMPORARY,
                            code=str(code) if code is not None else f"http-{status}",
                            retry_after=wait, opt_out=kind == OPT_OUT,
                            failover=failover_kind(code) if kind == PERMANENT else None,
                            outage=status == 429 or status >= 500)
    if isinstance(exc, asyncio.TimeoutError):
        return ChannelError("Twilio did not answer in time", permanent=False, code="timeout",
                            outage=True)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return ChannelError(f"cannot reach Twilio: {type(exc).__name__}", permanent=False,
                            code="connection", outage=True)
    return ChannelError(redact(str(exc)), permanent=False, code="twilio")


# What `channel_error` understands; anything else is a bug and should surface as one.
TRANSPORT_ERRORS = (TwilioException, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class TwilioChannel(Channel):
    """Base of the Twilio channels: pacing from settings, one pooled client per batch."""

    def __init__(self, settings: Settings, concurrency: int | None = None,
                 per_second: float | None = None,
                 pace: Callable[[int], Awaitable[None]] | None = None,
                 timeout: float = 15.0):
        super().__init__(
            concurrency=settings.concurrency[self.name] if concurrency is None else concurrency,
            per_second=settings.per_second[self.name] if per_second is None else per_second,
            pace=pace)
        self.settings = settings
        self.timeout = timeout

    def session(self):
        """A Twilio client with as many pooled connections as requests in flight."""
        return twilio_session(self.settings, limit=self.concurrency, timeout=self.timeout)


def status_callback_url(settings, delivery_id: int) -> str:
    """Where Twilio reports a message's or call's progress; the id lets a callback that races
    ahead of mark_sent find its delivery."""
    return f"{settings.public_url}/webhooks/twilio/status?d={delivery_id}"
