"""An account-wide limit on provider calls in flight, shared by every worker through Redis.

Twilio limits the concurrent API requests of an account; SMS_CONCURRENCY is per worker, so each
worker added would add requests in flight. Here each call holds a slot: a member of the ZSET
`tocsin:in-flight:twilio:<AccountSid>` scored by its lease's expiry (Redis's clock, so machines'
clocks do not matter). Taking one drops expired leases and adds ours while fewer than the limit
are held, so a killed worker's slots free themselves when their lease runs out.

Built never to be in the way of delivery:
- no renewal, no task, no thread: the lease outlasts a provider call (TWILIO_TIMEOUT) with
  room to spare, and a batch hands a finished call's slot to its next call (no round trip)
  only while the lease still outlasts one more call; idle slots, and all of them at the
  batch's end, go back in one call;
- waits are bounded: a batch that waited MAX_WAIT seconds for a slot goes on without (logged);
- one Redis error (a failover, no answer in SOCKET_TIMEOUT, no retries) switches the batch to
  per-worker concurrency alone (logged) instead of stalling it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections import deque
from typing import Callable

import redis

from channels.base import Channel
from channels.twilio_client import TwilioChannel
from notifier.config import Settings
from notifier.redis_url import connect

log = logging.getLogger("workers.slots")

KEY_PREFIX = "tocsin:in-flight"
# A lease outlasts the longest call (TWILIO_TIMEOUT) by this much at least.
LEASE_MARGIN = 30.0
# A slot kept for the batch's next call must have this long left beyond one more call.
REUSE_MARGIN = 5.0
IDLE = 0.5          # a slot no call of the batch took for this long goes back
MAX_WAIT = 10.0     # the longest a batch waits for slots before going on without them
SOCKET_TIMEOUT = 1.0
FIRST_POLL, LAST_POLL = 0.005, 0.1  # back-off between tries while the account is full

# KEYS[1] the account's ZSET; ARGV: limit, lease (ms), member. 1 when taken, 0 when full.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

_connections: dict[tuple[int, str], redis.Redis] = {}


class AccountSlots:
    """The in-flight limit of one provider account; `batch()` gives a batch its slots."""

    def __init__(self, connection: redis.Redis, account: str, limit: int, call_timeout: float,
                 clock: Callable[[], float] = time.monotonic, max_wait: float = MAX_WAIT):
        if limit < 1:
            raise ValueError("limit must be at least 1; 0 means no account-wide limit")
        self.connection = connection
        self.key = f"{KEY_PREFIX}:{account}"
        self.limit = limit
        self.lease = call_timeout + LEASE_MARGIN
        # A kept slot serves another call only while its lease outlasts that call.
        self.reusable_for = self.lease - call_timeout - REUSE_MARGIN
        self.clock = clock
        self.max_wait = max_wait
        self._take = connection.register_script(_TAKE)

    def batch(self) -> "BatchSlots":
        return BatchSlots(self)

    def held(self) -> int:
        """Slots with a live lease, across every worker (for tests and the bench)."""
        now_ms = _redis_ms(self.connection)
        return int(self.connection.zcount(self.key, now_ms, "+inf"))


class BatchSlots:
    """One batch's slots (Channel.send_batch_async): `await acquire()` before a provider call,
    `release(token)` after, `close()` at the end. A token of None is a call without a slot."""

    def __init__(self, account: AccountSlots):
        self.account = account
        self.prefix = uuid.uuid4().hex
        self.taken = 0
        self.degraded = False  # Redis failed or the wait ran out: no slots for this batch
        self._free: deque[tuple[str, float, float]] = deque()  # (token, taken at, freed at)
        self._taken_at: dict[str, float] = {}
        self._full_until = 0.0  # the account was found full: waiters ask Redis again after

    async def acquire(self) -> str | None:
        """A slot for one call; None when the batch goes without (see the module's notes)."""
        delay = FIRST_POLL
        started = self.account.clock()
        while not self.degraded:
            now = self.account.clock()
            token = self._reuse(now)
            if token is not None:
                return token
            # While the account is full, one waiter of the batch asks Redis per back-off step.
            if now >= self._full_until:
                token = self._take_new(now)
                if token is not None:
                    return token
                self._full_until = now + delay
            if now - started >= self.account.max_wait:
                self._degrade(f"no slot free within {self.account.max_wait:g} s "
                              f"({self.account.limit} held by the account)")
                break
            await asyncio.sleep(delay)
            delay = min(LAST_POLL, delay * 2)
        return None

    def release(self, token: str | None) -> None:
        """Give back the slot of a finished call: kept for the batch's next call."""
        if token is None:
            return
        now = self.account.clock()
        self._free.append((token, self._taken_at[token], now))
        self._give_back(now - IDLE)

    def close(self) -> None:
        """Give back every slot the batch still keeps (in one call)."""
        self._give_back(float("inf"))

    def _reuse(self, now: float) -> str | None:
        self._give_back(now - IDLE)
        while self._free:
            token, taken_at, _ = self._free.pop()  # the most recently freed: least idle
            if now - taken_at < self.account.reusable_for:
                return token
            self._drop([token])
        return None

    def _take_new(self, now: float) -> str | None:
        token = f"{self.prefix}:{self.taken}"
        try:
            got = self.account._take(keys=[self.account.key],
                                     args=[self.account.limit, int(self.account.lease * 1000),
                                           token])
        except redis.RedisError as exc:
            self._degrade(f"Redis error {type(exc).__name__}: {exc}")
            return None
        if not got:
            return None
        self.taken += 1
        self._taken_at[token] = now
        return token

    def _give_back(self, idle_before: float) -> None:
        """Return the kept slots freed before `idle_before`."""
        stale = []
        while self._free and self._free[0][2] <= idle_before:
            stale.append(self._free.popleft()[0])
        self._drop(stale)

    def _drop(self, tokens: list[str]) -> None:
        for token in tokens:
            self._taken_at.pop(token, None)
        if not tokens or self.degraded:
            return  # after an error the leases run out on their own
        try:
            self.account.connection.zrem(self.account.key, *tokens)
        except redis.RedisError as exc:
            self._degrade(f"Redis error {type(exc).__name__}: {exc}")

    def _degrade(self, why: str) -> None:
        if not self.degraded:
            self.degraded = True
            log.warning("account-wide concurrency (%s, limit %d) off for this batch: %s; "
                        "each worker keeps to its own concurrency", self.account.key,
                        self.account.limit, why)


def for_channel(settings: Settings, channel: Channel | None) -> AccountSlots | None:
    """The account-wide limit `channel` keeps to: Twilio channels (SMS, voice) share their
    account's TWILIO_ACCOUNT_CONCURRENCY; None for other channels, the sandbox, or when 0."""
    limit = settings.twilio_account_concurrency
    if (not isinstance(channel, TwilioChannel) or channel.simulated or limit <= 0
            or not settings.twilio_account_sid):
        return None
    return AccountSlots(slot_connection(settings), f"twilio:{settings.twilio_account_sid}",
                        limit, settings.twilio_timeout)


def slot_connection(settings: Settings) -> redis.Redis:
    """This process's Redis client for slots: short timeouts and no retries, so a Redis in
    trouble costs a batch one SOCKET_TIMEOUT, not a stall (a fresh client after a fork)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    key = (os.getpid(), settings.redis_url)
    conn = _connections.get(key)
    if conn is None:
        conn = _connections[key] = connect(
            settings.redis_url, socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT, retry=Retry(NoBackoff(), 0))
    return conn


def _redis_ms(connection: redis.Redis) -> int:
    seconds, micros = connection.time()
    return int(seconds) * 1000 + int(micros) // 1000
