"""A LibreTranslate-compatible server on 127.0.0.1 for tests: `POST /translate` answers
`{"translatedText": "<target>: <q>"}` and records every request; it can be told to fail (an
HTTP status with LibreTranslate's `{"error": …}` body) or to wait, and `unreachable_url()` is
an address where nothing listens.

Shaped like LibreTranslate's own API (libretranslate.com/docs): JSON in, JSON out, 400 for a
bad request, 403 for a wrong key when one is required.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# LibreTranslate's codes of the languages Tocsin speaks (zt: Traditional Chinese).
CODES = {"en", "es", "zh", "zt", "vi", "tl", "ko", "ar", "fr", "ht", "pt", "ru", "de", "ja",
         "hi", "bn"}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (its other languages failed) closed the connection


def translated(text: str, target: str) -> str:
    """What the stand-in answers for `text` into `target`: easy to recognise in a test."""
    return f"{target}: {text}"


@dataclass
class TranslateStandIn:
    api_key: str | None = None  # when set, requests must carry it (403 otherwise)
    requests: list[dict] = field(default_factory=list)
    failure: tuple[int, str] | None = None  # (status, error text) for every request
    delay: float = 0.0

    def start(self) -> "TranslateStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                standin.requests.append({"path": self.path, "body": body,
                                         "content_type": self.headers.get("Content-Type")})
                if standin.delay:
                    time.sleep(standin.delay)
                self._answer(*standin.answer(self.path, body))

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def answer(self, path: str, body) -> tuple[int, dict]:
        if self.failure is not None:
            status, error = self.failure
            return status, {"error": error}
        if path.rstrip("/") != "/translate":
            return 404, {"error": "Not Found"}
        if not isinstance(body, dict) or not isinstance(body.get("q"), str):
            return 400, {"error": "Invalid request: missing q parameter"}
        if self.api_key and body.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}
        for name in ("source", "target"):
            if body.get(name) not in CODES:
                return 400, {"error": f"{body.get(name)} is not supported"}
        return 200, {"translatedText": translated(body["q"], body["target"])}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "TranslateStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def unreachable_url() -> str:
    """An http:// address on 127.0.0.1 where nothing listens (a port just given back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
