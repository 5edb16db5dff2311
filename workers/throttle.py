"""A send rate shared by every worker through Redis: `await pace()` before each message.

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
from typing import Callable

import redis

from notifier.config import Settings

KEY_PREFIX = "tocsin:pace"
MAX_BLOCK = 20

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
    """The shared limit of one channel; an instance is the `pace` coroutine a channel awaits."""

    def __init__(self, connection: redis.Redis, channel: str, per_second: float,
                 clock: Callable[[], float] = time.time):
        if per_second <= 0:
            raise ValueError("per_second must be positive; 0 means no throttle at all")
        self.connection = connection
        self.channel = channel
        self.per_second = per_second
        # Windows of at least a second, long enough to hold one permit at slow rates.
        self.window = float(max(1, math.ceil(1 / per_second)))
        self.budget = max(1, int(per_second * self.window + 1e-9))
        self.block = max(1, min(MAX_BLOCK, self.budget // 10))
        self.clock = clock
        self._take = connection.register_script(_TAKE)
        self._permits: deque[float] = deque()  # times at which the held permits may be used
        self._spent_until = 0.0  # the current window's budget is gone until then
        self.round_trips = 0

    async def __call__(self) -> None:
        await self.pace()

    async def pace(self) -> None:
        """Wait until this worker may send one more message under the shared rate."""
        while True:
            now = self.clock()
            at = self._take_local(now)
            if at is None:
                if now < self._spent_until:
                    # Another coroutine already learned the window is spent: no round trip.
                    await asyncio.sleep(self._spent_until - now)
                    continue
                # No await between looking and taking: coroutines of one loop cannot race here.
                wait = self._take_block(now)
                if wait:
                    await asyncio.sleep(wait)
                continue
            if at > now:
                await asyncio.sleep(at - now)
            return

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
        key = f"{KEY_PREFIX}:{self.channel}:{index}"
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


def pacer(settings: Settings, channel: str, connection: redis.Redis | None = None
          ) -> Throttle | None:
    """Return the shared throttle for `channel`, or None when its rate is 0 (no limit)."""
    rate = settings.per_second.get(channel, 0) or 0
    if rate <= 0:
        return None
    if connection is None:
        from workers.queues import redis_connection

        connection = redis_connection(settings)
    return Throttle(connection, channel, rate)
