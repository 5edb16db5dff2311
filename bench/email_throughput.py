"""Email benchmark (DESIGN §7): emails/s from EmailChannel to a local aiosmtpd, next to a ceiling.

    .venv/bin/python bench/email_throughput.py [--messages 5000] [--concurrency 20] [--results F]

The SMTP server runs in a process of its own (a counting aiosmtpd handler), as a real relay
would. Measured in the same run: the ceiling (raw aiosmtplib sends of one prepared message over
as many connections), then Tocsin's path: render each resident's email (subject, text, HTML,
signed links, headers) and send the batch through `channels.email.EmailChannel`.
Standalone: not a test, never run by pytest.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where "email" would be this
# file rather than the standard library's package: take the folder off before any import.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone
from types import SimpleNamespace

ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402

from bench.results import record  # noqa: E402
from channels.base import OutboundMessage, Receipt  # noqa: E402
from channels.email import EmailChannel  # noqa: E402
from notifier.config import Settings  # noqa: E402
from notifier.render_email import render_email  # noqa: E402

TARGET = 1000  # emails/s on 2 cores
SENDER = "alerts@bench.example.org"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def serve(port: int) -> None:
    """The SMTP server process: accept everything, count, keep nothing."""
    from aiosmtpd.controller import Controller

    class Counting:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Counting.count += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def ceiling(port: int, count: int, concurrency: int, data: bytes) -> float:
    """Raw aiosmtplib: `concurrency` open connections each sending prepared bytes in turn."""
    clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
               for _ in range(concurrency)]
    await asyncio.gather(*(c.connect() for c in clients))
    started = time.perf_counter()

    async def run(client, n):
        for _ in range(n):
            await client.sendmail(SENDER, ["r@example.org"], data)

    share = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(run(c, n) for c, n in zip(clients, share)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.quit() for c in clients))
    return count / elapsed


def alert() -> SimpleNamespace:
    now = datetime.now(timezone.utc)
    return SimpleNamespace(
        messages={"en": "Chemical leak near Main St. Stay indoors, close windows and doors.",
                  "es": "Fuga química cerca de Main St. Quédese adentro y cierre las ventanas."},
        headline="Shelter in place", severity="Severe", status="Actual",
        instruction="Turn off ventilation.", confirm=True, sent_at=now)


def render(settings: Settings, count: int) -> list[OutboundMessage]:
    a, now, out, cache = alert(), datetime.now(timezone.utc), [], {}
    for i in range(count):
        c = render_email(a, "es" if i % 2 else "en", settings, i + 1, now, cache)
        out.append(OutboundMessage(delivery_id=i + 1, to=f"r{i}@example.org", body=c.text,
                                   language=c.language, subject=c.subject, html=c.html,
                                   headers=c.headers))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/email_throughput.py")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--results", help="append the figure to this JSON-lines file")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            log("the SMTP server did not start")
            return 1
        settings = Settings.from_env({
            "SECRET_KEY": "bench-secret-key-0123456789abcdef", "DATABASE_URL": "sqlite://", "PUBLIC_URL":
            "https://tocsin.example.org", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
            "MAIL_FROM": f"Bench Alerts <{SENDER}>", "TIMEZONE": "America/New_York",
            "EMAIL_CONCURRENCY": str(args.concurrency),
            "TOCSIN_INSTANCE": os.environ.get("TMPDIR", "/tmp") + "/tocsin-bench"})
        sample = render(settings, 1)[0]
        from notifier.render_email import EmailContent, message_bytes
        data = message_bytes(EmailContent(sample.language, sample.subject, sample.body,
                                          sample.html, sample.headers), SENDER, "r@example.org")
        log(f"ceiling: raw aiosmtplib, {args.concurrency} connections, {args.messages} messages")
        raw = asyncio.run(ceiling(port, args.messages, args.concurrency, data))

        log("Tocsin: render every email, then EmailChannel.send_batch")
        started = time.perf_counter()
        messages = render(settings, args.messages)
        rendered = time.perf_counter()
        outcomes = EmailChannel(settings).send_batch(messages)
        done = time.perf_counter()
        ok = sum(isinstance(o, Receipt) for o in outcomes)
        if ok != args.messages:
            log(f"only {ok} of {args.messages} accepted: {outcomes[0]!r}")
            return 1
        send_rate = args.messages / (done - rendered)
        overall = args.messages / (done - started)
        render_rate = args.messages / (rendered - started)
        print(f"email to a local SMTP server ({os.cpu_count()} cores, {args.messages} messages, "
              f"{args.concurrency} connections):")
        print(f"  ceiling, raw aiosmtplib sends      {raw:8.0f} msgs/s")
        print(f"  Tocsin EmailChannel (send only)    {send_rate:8.0f} msgs/s "
              f"({send_rate / raw:.0%} of the ceiling)")
        print(f"  Tocsin render + send               {overall:8.0f} msgs/s "
              f"(rendering alone {render_rate:.0f}/s)")
        verdict = "meets" if overall >= TARGET else "misses"
        print(f"  target >= {TARGET}/s: {verdict}")
        record(args.results, bench="email", figure="emails rendered and sent to a local SMTP server",
               value=round(overall), unit="/s", database="-", ceiling=round(raw),
               ceiling_label="raw aiosmtplib sends", target=f"≥ {TARGET:,}/s",
               met=overall >= TARGET,
               note=f"{args.messages:,} messages, {args.concurrency} connections")
        return 0 if overall >= TARGET else 2
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
