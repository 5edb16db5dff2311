"""Email over SMTP (aiosmtplib): a small pool of connections reused across a batch.

SMTP answers one message at a time per connection, so throughput comes from EMAIL_CONCURRENCY
connections kept open for the whole batch (no handshake, TLS or AUTH per message).
5xx answers fail the delivery with the code; 4xx answers and connection trouble are retried.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

import aiosmtplib

from channels.base import Channel, ChannelError, Implementation, OutboundMessage, Receipt
from notifier.config import Settings
from notifier.failover import BAD_MAILBOX
from notifier.render_email import EmailContent, message_bytes, render_email, sender_address

log = logging.getLogger("channels.email")

CONNECT_TIMEOUT = 15.0
# Connection trouble: the message never reached a server that took responsibility for it.
TRANSPORT_ERRORS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                    aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError, OSError)


def smtp_error(exc: BaseException) -> ChannelError:
    """Translate what aiosmtplib raised: 5xx permanent (`smtp-550`), 4xx and I/O temporary."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # Our credentials, not the resident's address: retry once someone fixes the settings.
        return ChannelError(f"SMTP authentication failed ({exc.code})", permanent=False,
                            code="smtp-auth")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        message = f"SMTP {exc.code}: {exc.message}"[:300]
        return ChannelError(message, permanent=500 <= exc.code < 600, code=f"smtp-{exc.code}",
                            failover=BAD_MAILBOX if _no_such_mailbox(exc) else None)
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError)):
        return ChannelError("the SMTP server did not answer in time", permanent=False,
                            code="timeout", outage=True)
    return ChannelError(f"cannot reach the SMTP server: {type(exc).__name__}", permanent=False,
                        code="connection", outage=True)


# RFC 3463 "bad destination mailbox/system/syntax" (5.1.1–5.1.3), and null MX (5.1.10, RFC
# 7505): the address itself is wrong, unlike a policy or spam refusal (5.7.x) of one message.
NO_SUCH_MAILBOX = ("5.1.1", "5.1.2", "5.1.3", "5.1.10")


def _no_such_mailbox(exc: aiosmtplib.SMTPResponseException) -> bool:
    words = str(exc.message or "").split()
    return 500 <= exc.code < 600 and bool(words) and words[0] in NO_SUCH_MAILBOX


class SmtpPool:
    """Open SMTP connections, handed out one per message in flight and reused after.

    Grows up to as many connections as messages in flight (the channel bounds those). When
    connecting fails and no connection is up, later sends fail at once instead of each waiting
    for its own timeout: a dead server costs one timeout per batch, not one per message.
    """

    def __init__(self, settings: Settings, *, timeout: float = CONNECT_TIMEOUT,
                 tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.timeout = timeout
        self.tls_context = tls_context
        self._idle: list[aiosmtplib.SMTP] = []
        self._open: set[aiosmtplib.SMTP] = set()
        self._down: ChannelError | None = None

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, timeout=self.timeout,
            username=s.smtp_username or None,
            password=(s.smtp_password or "") if s.smtp_username else None,
            use_tls=s.smtp_security == "tls", start_tls=s.smtp_security == "starttls",
            tls_context=self.tls_context)

    async def acquire(self) -> aiosmtplib.SMTP:
        """An idle connection, or a new one; raise ChannelError when none can be opened."""
        while self._idle:
            conn = self._idle.pop()
            if conn.is_connected:
                return conn
            self._open.discard(conn)
        if self._down is not None and not self._open:
            # A fresh error per message: an outcome object is never shared between messages.
            raise self._down.for_delivery(None)
        conn = self._client()
        try:
            await conn.connect()
        except (aiosmtplib.SMTPException, *TRANSPORT_ERRORS) as exc:
            error = smtp_error(exc)
            if not self._open:
                self._down = error
            log.warning("SMTP connect to %s:%s failed: %s", self.settings.smtp_host,
                        self.settings.smtp_port, error.message)
            raise error from None
        self._down = None
        self._open.add(conn)
        return conn

    def release(self, conn: aiosmtplib.SMTP) -> None:
        if conn.is_connected:
            self._idle.append(conn)
        else:
            self._open.discard(conn)

    def discard(self, conn: aiosmtplib.SMTP) -> None:
        self._open.discard(conn)
        conn.close()

    async def close(self) -> None:
        """QUIT every connection (politely, but without waiting long on a stuck server)."""
        conns, self._open, self._idle = list(self._open), set(), []
        for conn in conns:
            try:
                if conn.is_connected:
                    await asyncio.wait_for(conn.quit(), 2)
            except (aiosmtplib.SMTPException, *TRANSPORT_ERRORS):
                conn.close()


class EmailChannel(Channel):
    """Sends each OutboundMessage (subject, text body, html, headers) as one SMTP transaction."""

    name = "email"

    def __init__(self, settings: Settings, concurrency: int | None = None,
                 per_second: float | None = None,
                 pace: Callable[[int], Awaitable[None]] | None = None,
                 timeout: float = CONNECT_TIMEOUT, tls_context: ssl.SSLContext | None = None):
        super().__init__(
            concurrency=settings.concurrency.get("email", 20) if concurrency is None else concurrency,
            per_second=settings.per_second.get("email", 0) if per_second is None else per_second,
            pace=pace)
        self.settings = settings
        self.timeout = timeout
        self.tls_context = tls_context
        self.envelope_from = sender_address(settings.mail_from or "")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpPool]:
        pool = SmtpPool(self.settings, timeout=self.timeout, tls_context=self.tls_context)
        try:
            yield pool
        finally:
            await pool.close()

    async def send_one(self, pool: SmtpPool, message: OutboundMessage) -> Receipt:
        """Return a Receipt naming the Message-ID; raise ChannelError when refused."""
        content = EmailContent(message.language, message.subject or "", message.body,
                               message.html or "", dict(message.headers))
        try:
            data = message_bytes(content, self.settings.mail_from or self.envelope_from,
                                 message.to)
        except (ValueError, UnicodeEncodeError) as exc:
            raise ChannelError(f"cannot write this email: {exc}", permanent=True,
                               code="bad-message") from None
        conn = await pool.acquire()
        options = []
        if not message.to.isascii():
            if not conn.supports_extension("smtputf8"):
                pool.release(conn)
                raise ChannelError("the address needs SMTPUTF8, which the server lacks",
                                   permanent=True, code="smtputf8")
            options.append("SMTPUTF8")
        try:
            await conn.sendmail(self.envelope_from, [message.to], data, mail_options=options)
        except aiosmtplib.SMTPResponseException as exc:
            pool.release(conn)  # aiosmtplib sent RSET: the connection is reusable if still up
            raise smtp_error(exc) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            pool.release(conn)
            raise smtp_error(exc) from None
        except ValueError as exc:  # an address aiosmtplib will not put on the wire
            pool.release(conn)
            raise ChannelError(f"invalid address: {exc}", permanent=True,
                               code="bad-address") from None
        except (aiosmtplib.SMTPException, *TRANSPORT_ERRORS) as exc:
            pool.discard(conn)
            raise smtp_error(exc) from None
        pool.release(conn)
        return Receipt(message.delivery_id,
                       content.message_id[:64] or f"email-{message.delivery_id}")


def compose(session, settings, delivery, alert, now, cache: dict) -> OutboundMessage:
    """One resident's email: links and Message-ID are per delivery; `cache` keeps what every
    reader of a language shares (render_email's)."""
    content = render_email(alert, delivery.language, settings, delivery.id, now,
                           cache.setdefault("email", {}))
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=content.text,
                           language=content.language, subject=content.subject,
                           html=content.html, headers=content.headers)


def build(settings, concurrency: int, per_second: float, pace) -> EmailChannel:
    return EmailChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace)


CHANNEL = Implementation("email", compose, build)
