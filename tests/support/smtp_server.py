"""A real SMTP server for tests (aiosmtpd in a thread): stores messages, refuses chosen recipients.

As Mailman 3's test layers do: `.refuse(address, 550)` scripts a permanent refusal, 451 a
temporary one; `.messages` holds what was accepted; optional STARTTLS (a self-signed
certificate made with openssl) and AUTH.
"""
from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.services import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    data: bytes
    peer: tuple

    @property
    def message(self) -> email.message.EmailMessage:
        """The message parsed the way a mail client would (policy.default)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class _Refusal:
    code: int
    text: str
    remaining: int | None


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.server._take_refusal(address)
        if refusal is not None:
            return f"{refusal.code} {refusal.text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.server._lock:
            self.server._messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                                  envelope.original_content or envelope.content,
                                                  session.peer))
        return "250 Message accepted for delivery"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(cert, key) for 127.0.0.1, valid one day, made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>. Use as a context manager.

    `starttls=(cert, key)` offers STARTTLS (and requires it); `login=(user, password)` requires
    AUTH LOGIN/PLAIN with those. `client_tls_context()` trusts the certificate.
    """

    def __init__(self, *, starttls: tuple[Path, Path] | None = None,
                 login: tuple[str, str] | None = None, port: int | None = None):
        # `port`: that of a server that went down, to bring "it" back up (a stopped one cannot).
        self.host, self.port = "127.0.0.1", port or free_port()
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._refusals: dict[str, _Refusal] = {}
        self.cert = starttls[0] if starttls else None
        kwargs: dict = {}
        if starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(starttls[0]), str(starttls[1]))
            kwargs.update(tls_context=context, require_starttls=True)
        if login:
            kwargs.update(authenticator=self._authenticator(login), auth_required=True,
                          auth_require_tls=bool(starttls))
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                     ready_timeout=10, **kwargs)

    @staticmethod
    def _authenticator(login: tuple[str, str]):
        def check(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and (auth_data.login.decode(), auth_data.password.decode()) == login)
            return AuthResult(success=ok, handled=False)
        return check

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 No such user here",
               times: int | None = None) -> None:
        """Answer RCPT TO `address` with `code` (`times` None: always)."""
        with self._lock:
            self._refusals[address.lower()] = _Refusal(code, text, times)

    def _take_refusal(self, address: str) -> _Refusal | None:
        with self._lock:
            refusal = self._refusals.get(address.lower())
            if refusal is None:
                return None
            if refusal.remaining is not None:
                refusal.remaining -= 1
                if refusal.remaining <= 0:
                    del self._refusals[address.lower()]
            return refusal

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    @property
    def connections(self) -> int:
        """How many client connections delivered mail (distinct peer addresses)."""
        return len({m.peer for m in self.messages})

    def client_tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def env(self, **extra) -> dict:
        """SMTP_* variables pointing at this server (plus `extra`)."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port),
                "MAIL_FROM": "Tocsin Alerts <alerts@tocsin.example.org>", **extra}
