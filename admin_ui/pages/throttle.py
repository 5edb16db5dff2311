"""Sign-in throttling: after MAX_FAILURES wrong passwords for one name from one address, wait."""
from __future__ import annotations

import hashlib
import logging

import redis

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
_PREFIX = "tocsin:login-failures:"


def _key(name: str, address: str) -> str:
    # Hashed: the key names neither the account nor the address in plain text.
    digest = hashlib.sha256(f"{name.strip().lower()}\0{address}".encode()).hexdigest()
    return _PREFIX + digest[:32]


def wait_seconds(conn: redis.Redis, name: str, address: str) -> int:
    """Seconds until `name` may try again from `address`; 0 when not blocked.

    Fails open (0) when Redis is unreachable: in a crisis a dispatcher must still get in.
    """
    key = _key(name, address)
    try:
        failures = int(conn.get(key) or 0)
        if failures < MAX_FAILURES:
            return 0
        return max(int(conn.ttl(key)), 1)
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (Redis): %s", exc)
        return 0


def record_failure(conn: redis.Redis, name: str, address: str) -> int:
    """Count one failed sign-in; return the failures in the current window."""
    key = _key(name, address)
    try:
        pipe = conn.pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        failures, _ = pipe.execute()
        return int(failures)
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (Redis): %s", exc)
        return 0


def clear(conn: redis.Redis, name: str, address: str) -> None:
    """Forget the failures after a successful sign-in."""
    try:
        conn.delete(_key(name, address))
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (Redis): %s", exc)
