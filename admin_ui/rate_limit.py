"""Per-client request limits for public endpoints, counted in Redis (a fixed window per client).

One INCR per request: cheap enough for a suggestion box that asks on every keystroke. Keys hold
a hash of the client's address, never the address itself. Fails open when Redis is down: an
address search matters less than a site that answers.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import redis
from flask import request

log = logging.getLogger(__name__)
_PREFIX = "tocsin:rate:"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused


def client_address() -> str:
    """The client's address; behind TRUSTED_PROXIES proxies, ProxyFix has already set it."""
    return request.remote_addr or "unknown"


def check(conn: redis.Redis, bucket: str, client: str, limit: int, window: int) -> Verdict:
    """Count one request of `client` in `bucket`; refused past `limit` per `window` seconds."""
    digest = hashlib.sha256(f"{bucket}\0{client}".encode("utf-8")).hexdigest()[:32]
    key = f"{_PREFIX}{bucket}:{digest}"
    try:
        pipe = conn.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
    except redis.RedisError as exc:
        log.warning("rate limit unavailable (Redis): %s", exc)
        return Verdict(True)
    if int(count) > limit:
        return Verdict(False, int(ttl) if int(ttl) > 0 else window)
    return Verdict(True)
