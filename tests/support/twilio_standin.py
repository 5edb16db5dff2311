"""A local stand-in for Twilio's REST API (Messages, Calls), checked against Twilio's OpenAPI file."""
from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

from aiohttp import web

from tests.support.twilio_openapi import API, form_rules, invalid_form

DEFAULT_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict
    at: float  # when it was answered (after the scripted latency)
    received_at: float = 0.0  # when it arrived: the moment the message was handed over
    status: int = 201  # what the stand-in answered: only a 201 means Twilio took the message


@dataclass
class Failure:
    status: int
    code: int | None  # None: a bare error page, not Twilio's JSON (a proxy in front of it)
    message: str | None
    remaining: int | None
    retry_after: float | None
    every: int = 1  # scripted for one request in `every` (the first, then every `every`th)
    seen: int = 0


@dataclass
class Hang:
    seconds: float
    remaining: int | None
    every: int = 1
    seen: int = 0


@dataclass
class _Stats:
    messages: int = 0
    calls: int = 0
    first_at: float | None = None
    last_at: float | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    # Messages accepted per To number: a bench of many workers checks each resident got one.
    to_counts: collections.Counter = field(default_factory=collections.Counter)


def _error(status: int, code: int | None, message: str,
           headers: dict | None = None) -> web.Response:
    if code is None:
        return web.Response(status=status, text=f"<html><body>{message}</body></html>",
                            content_type="text/html", headers=headers)
    body = {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json",
                        headers=headers)


def _segments(body: str) -> int:
    gsm = body.isascii()
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


class TwilioStandIn:
    """Answers like api.twilio.com on 127.0.0.1, in a thread with its own event loop.

    Put `.url` in TWILIO_API_BASE_URL. `.fail(to, …)` scripts errors, `.hang(seconds, …)`
    holds requests that long before answering (as a stuck provider: the message is taken all the
    same, though the client may have given up), `.latency` delays every answer, `.requests`
    lists what was received (when `record`), `.max_in_flight` says how many requests were being
    answered at once at most.
    """

    def __init__(self, account_sid: str, auth_token: str, latency: float = 0.0, *,
                 host: str = "127.0.0.1", port: int = 0, record: bool = True):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.host, self.port = host, port
        self.record = record
        token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._authorization = f"Basic {token}"
        self._rules = {"Messages": form_rules("Messages"), "Calls": form_rules("Calls")}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: dict[str | None, Failure] = {}
        self._hangs: dict[str | None, Hang] = {}
        self._stats = _Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- control, from the test's thread -------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def max_in_flight(self) -> int:
        return self._stats.max_in_flight

    def fail(self, to: str | None, status: int = 400, code: int | None = 21211,
             message: str | None = None, times: int | None = None,
             retry_after: float | None = None, every: int = 1) -> None:
        """Answer requests to `to` (None: any number) with this error; `times` None = always.

        `every` 3 fails one request in three (the 1st, 4th, 7th…; `times` counts failures);
        `code` None answers a bare HTML error page instead of Twilio's JSON error.
        """
        with self._lock:
            self._failures[to] = Failure(status, code, message, times, retry_after,
                                         max(1, every))

    def hang(self, seconds: float, to: str | None = None, times: int | None = None,
             every: int = 1) -> None:
        """Hold requests to `to` (None: any) `seconds` before answering as otherwise scripted;
        `times` and `every` as for `fail`."""
        with self._lock:
            self._hangs[to] = Hang(seconds, times, max(1, every))

    def reset(self) -> None:
        """Forget recorded requests, counters and scripted failures."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._hangs.clear()
            self._stats = _Stats()

    def to_counts(self) -> dict[str, int]:
        """Messages accepted per To number (GET /_to_counts from another process)."""
        return dict(self._stats.to_counts)

    def stats(self) -> dict:
        s = self._stats
        return {"messages": s.messages, "calls": s.calls, "first_at": s.first_at,
                "last_at": s.last_at, "in_flight": s.in_flight,
                "max_in_flight": s.max_in_flight}

    def start(self) -> "TwilioStandIn":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(sock, ready),
                                        name="twilio-standin", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("Twilio stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> "TwilioStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the server, in its own thread ---------------------------------------------------
    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_post(API + "/Messages.json", self._messages)
        app.router.add_post(API + "/Calls.json", self._calls)
        app.router.add_get("/_stats", self._get_stats)
        app.router.add_post("/_reset", self._post_reset)
        app.router.add_get("/_to_counts", self._get_to_counts)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        loop.run_until_complete(runner.setup())
        # A deep backlog: a few hundred connections open at once at the start of a batch.
        loop.run_until_complete(web.SockSite(runner, sock, backlog=2048).start())
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    async def _get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _get_to_counts(self, request: web.Request) -> web.Response:
        """{To number: messages accepted}, for duplicates and gaps across workers."""
        return web.json_response(dict(self._stats.to_counts))

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _messages(self, request: web.Request) -> web.Response:
        return await self._create(request, "Messages")

    async def _calls(self, request: web.Request) -> web.Response:
        return await self._create(request, "Calls")

    async def _create(self, request: web.Request, resource: str) -> web.Response:
        received = time.time()
        stats = self._stats
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            form = await request.post()
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            hang = self._scripted(self._hangs, form.get("To"))
            if hang is not None:
                await asyncio.sleep(hang.seconds)
            return self._answer(request, resource, form, received)
        finally:
            stats.in_flight -= 1

    def _answer(self, request: web.Request, resource: str, form,
                received: float) -> web.Response:
        if request.headers.get("Authorization") != self._authorization:
            return _error(401, 20003, "Authenticate",
                          {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        account = request.match_info["AccountSid"]
        if account != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        now = time.time()
        values = {k: v for k, v in form.items()}
        recorded = RecordedRequest(request.method, request.path, values, now, received)
        if self.record:
            with self._lock:
                self._requests.append(recorded)
        invalid = invalid_form(self._rules[resource], resource, form)
        if invalid:
            recorded.status = 400
            return _error(400, *invalid)
        failure = self._scripted(self._failures, values.get("To"))
        if failure is not None:
            recorded.status = failure.status
            message = failure.message or DEFAULT_MESSAGES.get(failure.code, "Scripted failure")
            headers = ({"Retry-After": f"{failure.retry_after:g}"}
                       if failure.retry_after is not None else None)
            return _error(failure.status, failure.code,
                          message.format(to=values.get("To", "")), headers)
        stats = self._stats
        if resource == "Messages":
            stats.messages += 1
            stats.to_counts[values.get("To", "")] += 1
        else:
            stats.calls += 1
        stats.first_at = stats.first_at or now
        stats.last_at = now
        build = self._message if resource == "Messages" else self._call
        return web.Response(status=201, text=json.dumps(build(values)),
                            content_type="application/json")

    def _scripted(self, scripts: dict, to: str | None):
        """The script (failure or hang) that applies to this request to `to`, if any."""
        if not scripts:
            return None
        with self._lock:
            key = to if to in scripts else None
            script = scripts.get(key)
            if script is None:
                return None
            script.seen += 1
            if (script.seen - 1) % script.every:
                return None
            if script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    del scripts[key]
            return script

    def _message(self, form: dict) -> dict:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(timezone.utc))
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        body = form.get("Body", "")
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body,
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form.get("From"), "messaging_service_sid": service,
            "num_media": "0", "num_segments": str(_segments(body)), "price": None,
            "price_unit": "USD", "sid": sid,
            # With a Messaging Service and no From, Twilio first answers "accepted".
            "status": "accepted" if service and not form.get("From") else "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form.get("To"), "uri": f"{base}.json",
        }

    def _call(self, form: dict) -> dict:
        sid = "CA" + uuid.uuid4().hex
        now = format_datetime(datetime.now(timezone.utc))
        base = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}"
        return {
            "account_sid": self.account_sid, "answered_by": None, "api_version": "2010-04-01",
            "caller_name": None, "date_created": now, "date_updated": now,
            "direction": "outbound-api", "duration": None, "end_time": None,
            "forwarded_from": None, "from": form.get("From"), "from_formatted": form.get("From"),
            "group_sid": None, "parent_call_sid": None, "phone_number_sid": None,
            "price": None, "price_unit": "USD", "queue_time": "0", "sid": sid,
            "start_time": None, "status": "queued",
            "subresource_uris": {"recordings": f"{base}/Recordings.json",
                                 "notifications": f"{base}/Notifications.json"},
            "to": form.get("To"), "to_formatted": form.get("To"), "trunk_sid": None,
            "uri": f"{base}.json",
        }


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in until SIGINT/SIGTERM, printing its URL on the first line of stdout."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.twilio_standin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="standin-token")
    parser.add_argument("--record", action="store_true",
                        help="keep every request in memory (off: benchmarks send 100k+)")
    args = parser.parse_args(argv)
    standin = TwilioStandIn(args.account_sid, args.auth_token, args.latency, host=args.host,
                            port=args.port, record=args.record)
    # Handlers first: a caller may signal us as soon as it has read the URL.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    standin.start()
    print(standin.url, flush=True)
    while not stop.wait(1):
        pass
    standin.stop()


if __name__ == "__main__":
    main()
