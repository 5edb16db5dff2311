"""Heartbeats: a short-lived Redis key per running job says that its worker is still alive.

A delivery job names its claim with a token (on the rows it moves to `sending`) and keeps
`tocsin:heartbeat:<token>` alive from a thread of its own; a fan-out does the same under its
job id. The key outlives its last refresh by a few seconds only, so the claim of a worker that
was SIGKILLed, lost its machine or froze is seen dead by workers/healing.py that soon.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Iterable

import redis

from notifier.config import Settings
from notifier.redis_url import connect

log = logging.getLogger("workers.heartbeat")

PREFIX = "tocsin:heartbeat:"
# Refreshes per lifetime: a worker may miss a few (a slow Redis, a busy machine) and live.
BEATS_PER_TTL = 5


def ttl_seconds(settings: Settings) -> float:
    """How long a heartbeat outlives its last refresh: two sweep intervals."""
    return 2 * settings.heal_seconds


def key(token: str) -> str:
    return PREFIX + token


def fan_out_token(alert_id: int) -> str:
    """A fan-out's heartbeat is named after its job (one per alert)."""
    return f"fan-out-{int(alert_id)}"


def alive(connection: redis.Redis, tokens: Iterable[str]) -> set[str]:
    """The tokens among `tokens` whose heartbeat is present, in one round trip."""
    tokens = sorted(set(tokens))
    if not tokens:
        return set()
    with connection.pipeline(transaction=False) as pipe:
        for token in tokens:
            pipe.exists(key(token))
        found = pipe.execute()
    return {t for t, hit in zip(tokens, found) if hit}


class Heartbeat:
    """`start()` before claiming, `stop()` once every outcome is written.

    The key holds `host:pid` of the process working, for whoever looks at a stuck claim.
    """

    def __init__(self, settings: Settings, token: str | None = None):
        self.token = token or uuid.uuid4().hex
        self.key = key(self.token)
        self.ttl = ttl_seconds(settings)
        # A client of its own, with short timeouts: a refresh must never hang the job, and the
        # job's own client may be busy in another thread.
        every = self.ttl / BEATS_PER_TTL
        self._conn = connect(settings.redis_url, socket_timeout=every,
                             socket_connect_timeout=every)
        self._every = every
        self._value = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._last = 0.0

    def start(self) -> "Heartbeat":
        """Write the key, then keep it alive. Raises when Redis cannot be reached: the caller
        then claims nothing (a claim must never name a heartbeat that was not there)."""
        self._beat()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._every * 2)
        try:
            self._conn.delete(self.key)
        except (redis.RedisError, OSError):
            pass  # it expires by itself within its lifetime
        self._conn.close()

    def __enter__(self) -> "Heartbeat":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _beat(self) -> None:
        # A plain SET (not XX): after a Redis restart it writes the key again, and the sweep
        # waits one lifetime after such a loss before it judges any claim.
        self._conn.set(self.key, self._value, px=int(self.ttl * 1000))
        self._last = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._beat()
            except (redis.RedisError, OSError) as exc:
                silent = time.monotonic() - self._last
                level = logging.ERROR if silent >= self.ttl else logging.WARNING
                log.log(level, "heartbeat %s not refreshed for %.1f s (lifetime %.1f s): %s",
                        self.token, silent, self.ttl, exc)
