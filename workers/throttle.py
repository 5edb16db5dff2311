"""A send rate shared by every worker through Redis: `await pace(cost)` before each message.

A message takes `cost` permits: SMS count segments, as carriers and Twilio's MPS do (a message
of three segments takes three). SMS are paced per sender (the Messaging Service, else the From
number): workers sharing a sender share its rate, and two senders on one Redis do not.

Time is cut into windows of W seconds holding B = R·W permits (R = `*_PER_SECOND`). A Redis
counter per window numbers the permits across all workers; permit k of a window may be used
at window start + k·W/B, so the rate stays smooth, not a burst at each window's start, and the
counter first jumps past permits whose time is gone (unused time is not saved up). A worker
takes permits in small blocks (one script call each) to keep round trips low, and sleeps until
the next window once the budget is spent. Fractional rates round down: the limit holds.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Awaitable, Callable

import redis

from notifier.config import Settings

KEY_PREFIX = "tocsin:pace"
MAX_BLOCK = 20
# Jobs are sized before anyone knows how long their messages are: plan SMS at this many
# segments each (a 300-character Spanish text, with á or ó, is UCS-2 and five segments).
PLANNED_SEGMENTS = 3

# KEYS[1] the window's counter; ARGV: first permit still in the future, block size, ttl.
# Returns the counter after taking the block: permits [result - block, result) are ours.
_TAKE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if count < floor then count = floor end
count = count + tonumber(ARGV[2])
redis.call('SET', KEYS[1], count, 'EX', tonumber(ARGV[3]))
return count
"""


class Throttle:
    """The shared limit of one channel (of one sender, for SMS); an instance is the `pace`
    coroutine a channel awaits with the permits a message costs."""

    def __init__(self, connection: redis.Redis, channel: str, per_second: float,
                 clock: Callable[[], float] = time.time, *, sender: str | None = None,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep):
        if per_second <= 0:
            raise ValueError("per_second must be positive; 0 means no throttle at all")
        self.connection = connection
        self.channel = channel
        self.key = f"{KEY_PREFIX}:{channel}:{sender}" if sender else f"{KEY_PREFIX}:{channel}"
        self.per_second = per_second
        # Windows of at least a second, long enough to hold one permit at slow rates.
        self.window = float(max(1, math.ceil(1 / per_second)))
        self.budget = max(1, int(per_second * self.window + 1e-9))
        self.block = max(1, min(MAX_BLOCK, self.budget // 10))
        self.clock = clock
        self.sleep = sleep
        self._take = connection.register_script(_TAKE)
        self._permits: deque[float] = deque()  # times at which the held permits may be used
        self._reserving: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._spent_until = 0.0  # the current window's budget is gone until then
        self.round_trips = 0
        self.spent = 0  # permits used by messages (not those dropped with their window)

    async def __call__(self, cost: int = 1) -> None:
        await self.pace(cost)

    async def pace(self, cost: int = 1) -> None:
        """Wait until this worker may send one more message of `cost` permits (SMS segments).

        A message reserves its permits in a row, under a lock: permits of messages in flight
        together do not interleave, which would hold every message back to the end and then
        release them at once. It goes at the time of its last permit.
        """
        async with self._lock():
            at = 0.0
            for _ in range(max(1, cost)):
                at = await self._reserve()
        now = self.clock()
        if at > now:
            await self.sleep(at - now)
        self.spent += max(1, cost)

    def _lock(self) -> asyncio.Lock:
        # One per event loop: each batch a channel sends runs in a loop of its own.
        loop = asyncio.get_running_loop()
        if self._reserving is None or self._reserving[0] is not loop:
            self._reserving = (loop, asyncio.Lock())
        return self._reserving[1]

    async def _reserve(self) -> float:
        """One permit of the shared rate: the time at which it may be used."""
        while True:
            now = self.clock()
            at = self._take_local(now)
            if at is not None:
                return at
            if now < self._spent_until:
                # Another message already learned the window is spent: no round trip.
                await self.sleep(self._spent_until - now)
                continue
            wait = self._take_block(now)
            if wait:
                await self.sleep(wait)

    def _take_local(self, now: float) -> float | None:
        start = self._window_start(now)
        while self._permits:
            at = self._permits.popleft()
            # A permit from a window already over would overfill the current one: drop it.
            if at >= start:
                return at
        return None

    def _take_block(self, now: float) -> float:
        """Take a block of permits of the current window; return seconds to wait when none is left."""
        index = int(now // self.window)
        key = f"{self.key}:{index}"
        start = index * self.window
        step = self.window / self.budget
        due = math.floor((now - start) / step)
        end = int(self._take(keys=[key], args=[due, self.block, int(self.window * 3) + 1]))
        self.round_trips += 1
        first = end - self.block
        if first >= self.budget:
            self._spent_until = (index + 1) * self.window
            return self._spent_until - now
        self._permits.extend(start + k * step for k in range(first, min(end, self.budget)))
        return 0.0

    def _window_start(self, now: float) -> float:
        return (now // self.window) * self.window


def pacer(settings: Settings, channel: str, connection: redis.Redis | None = None,
          clock: Callable[[], float] = time.time) -> Throttle | None:
    """Return the shared throttle for `channel`, or None when its rate is 0 (no limit)."""
    rate = settings.per_second.get(channel, 0) or 0
    if rate <= 0:
        return None
    if connection is None:
        from workers.queues import redis_connection

        connection = redis_connection(settings)
    return Throttle(connection, channel, rate, clock, sender=sms_sender(settings, channel))


def sms_sender(settings: Settings, channel: str) -> str | None:
    """Whose rate SMS keep to: the Messaging Service when SMS go through one, else the number."""
    if channel != "sms":
        return None
    return settings.twilio_messaging_service_sid or settings.twilio_from_number


def messages_per_second(settings: Settings, channel: str) -> float:
    """The pace in messages, for sizing jobs (0: no limit); SMS planned at PLANNED_SEGMENTS."""
    rate = settings.per_second.get(channel, 0) or 0
    return rate / PLANNED_SEGMENTS if channel == "sms" else rate
