"""A local HTTP server that records what reaches it: partner webhooks, Apprise's `json://`
posts and a Mastodon-compatible instance (`mastodon://` is plain HTTP in Apprise).

Answers are scripted per path prefix (`answer("/hook", 503, times=2)`); everything else gets
200 with a small JSON body, and `/api/v1/statuses` a Mastodon status.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class _Script:
    status: int
    times: int | None  # None: for ever
    delay: float = 0.0


@dataclass
class HttpReceiver:
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, _Script] = field(default_factory=dict)

    def start(self) -> "HttpReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append(Received(self.command, self.path, dict(self.headers),
                                                  body, time.time()))
                status, delay = receiver._status_for(self.path)
                if delay:
                    time.sleep(delay)
                payload = receiver._payload(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, prefix: str, status: int, times: int | None = None, delay: float = 0.0):
        self.scripts[prefix] = _Script(status, times, delay)

    def at(self, prefix: str) -> list[Received]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _status_for(self, path: str) -> tuple[int, float]:
        for prefix, script in self.scripts.items():
            if path.startswith(prefix) and (script.times is None or script.times > 0):
                if script.times is not None:
                    script.times -= 1
                return script.status, script.delay
        return 200, 0.0

    @staticmethod
    def _payload(path: str) -> bytes:
        if path.startswith("/api/v1/statuses"):
            return json.dumps({"id": "1", "url": "http://127.0.0.1/@tocsin/1"}).encode()
        if path.startswith("/api/v1/accounts/verify_credentials"):
            return json.dumps({"id": "1", "username": "tocsin"}).encode()
        return b"{}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
