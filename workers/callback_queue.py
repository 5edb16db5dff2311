"""The Redis list between the status webhook and the applier, and the lock that keeps one
applier at a time.

The webhook RPUSHes each verified callback to `tocsin:callbacks`. The lock holder moves a
batch atomically to `tocsin:callbacks:applying`, applies it, and deletes `:applying` only after
the database committed; a holder that died leaves `:applying` behind, and the next holder
applies it again first (harmless: a delivery only moves forward). Every move and the delete are
checked against the lock's token inside one script, so an applier whose lock ran out while it
worked can never delete a batch its successor took.
"""
from __future__ import annotations

import os
import secrets

from notifier.config import Settings
from notifier.redis_url import connect

QUEUED = "tocsin:callbacks"
APPLYING = "tocsin:callbacks:applying"
LOCK = "tocsin:callbacks:lock"
LOCK_MS = 30_000  # a dead applier's lock runs out this long after its last batch
BATCH = 2_000

# Lock held: `:applying` if a batch is left there, else up to ARGV[2] moved into it; its items
# after a leading 1. Lock not held: {0}.
_TAKE = """
if redis.call('get', KEYS[3]) ~= ARGV[1] then return {0} end
redis.call('pexpire', KEYS[3], ARGV[3])
if redis.call('llen', KEYS[2]) == 0 then
  local items = redis.call('lrange', KEYS[1], 0, tonumber(ARGV[2]) - 1)
  for i = 1, #items, 1000 do
    redis.call('rpush', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
  end
  redis.call('ltrim', KEYS[1], #items, -1)
end
local out = redis.call('lrange', KEYS[2], 0, -1)
table.insert(out, 1, 1)
return out
"""
_DONE = """
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_connections: dict = {}


def connection(settings: Settings):
    """This process's Redis client for callbacks: bounded waits, so a request never hangs on
    a Redis that stopped answering (it answers 503 instead)."""
    key = (os.getpid(), settings.redis_url)
    conn = _connections.get(key)
    if conn is None:
        conn = _connections[key] = connect(settings.redis_url, socket_connect_timeout=3,
                                           socket_timeout=3, health_check_interval=30)
    return conn


def push(conn, record: bytes) -> None:
    """Queue one verified callback; raises RedisError/OSError when Redis cannot take it."""
    conn.rpush(QUEUED, record)


def pending(conn) -> int:
    """Callbacks not yet applied (queued or in the batch being applied)."""
    with conn.pipeline(transaction=False) as pipe:
        pipe.llen(QUEUED)
        pipe.llen(APPLYING)
        return sum(pipe.execute())


class Lock:
    """The applier lock under a token of this holder's; `acquire` never waits."""

    def __init__(self, conn, ttl_ms: int = LOCK_MS):
        self.conn = conn
        self.ttl_ms = ttl_ms
        self.token = secrets.token_hex(12)
        self._take = conn.register_script(_TAKE)
        self._done = conn.register_script(_DONE)
        self._release = conn.register_script(_RELEASE)

    def acquire(self) -> bool:
        """True when this holder has the lock now (taken, or still its own)."""
        if self.conn.set(LOCK, self.token, nx=True, px=self.ttl_ms):
            return True
        held = self.conn.get(LOCK)
        return held is not None and held.decode() == self.token

    def take(self, limit: int = BATCH) -> list[bytes] | None:
        """The batch to apply (a left-over one first); None when the lock is no longer ours."""
        out = self._take(keys=[QUEUED, APPLYING, LOCK], args=[self.token, limit, self.ttl_ms])
        return None if out[0] == 0 else list(out[1:])

    def done(self) -> bool:
        """Forget the applied batch; False (and kept) when the lock passed to another."""
        return bool(self._done(keys=[APPLYING, LOCK], args=[self.token]))

    def wait_for_more(self, seconds: int) -> None:
        """Block up to `seconds` for one callback, moved straight into the (empty) batch."""
        self.conn.blmove(QUEUED, APPLYING, seconds, "LEFT", "RIGHT")

    def release(self) -> None:
        self._release(keys=[LOCK], args=[self.token])
