"""The shared rate limit, on a real Redis, used by two workers at once."""
from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
import redis

from workers.throttle import Throttle, pacer


def _run_user(url: str, rate: float, n: int, stamps: list, throttles: list) -> None:
    throttle = Throttle(redis.Redis.from_url(url), "sms", rate)
    throttles.append(throttle)

    async def main():
        async def one():
            await throttle()
            stamps.append(time.time())
        # Many coroutines in flight, as a channel sends them.
        await asyncio.gather(*(one() for _ in range(n)))

    asyncio.run(main())


def test_two_workers_share_one_rate(redis_url):
    rate, n = 50, 60  # 120 permits at 50/s across two users: about 2.4 s
    stamps: list[float] = []
    throttles: list[Throttle] = []
    start = time.time()
    users = [threading.Thread(target=_run_user, args=(redis_url, rate, n, stamps, throttles))
             for _ in range(2)]
    for u in users:
        u.start()
    for u in users:
        u.join(30)
    elapsed = time.time() - start
    assert len(stamps) == 2 * n
    per_window = Counter(int(s) for s in stamps)
    assert max(per_window.values()) <= rate
    # 120 permits at 50/s: about 2.4 s; generous bounds for a busy box.
    assert 2.0 <= elapsed <= 6
    # Permits are taken in blocks, not one Redis round trip each.
    assert sum(t.round_trips for t in throttles) < n


def test_a_slow_rate_spaces_messages_a_second_apart(redis_url):
    stamps: list[float] = []
    _run_user(redis_url, 1, 3, stamps, [])
    stamps.sort()
    assert len(Counter(int(s) for s in stamps)) == 3


def test_no_rate_means_no_throttle(settings):
    assert pacer(settings, "sms") is None  # SMS_PER_SECOND defaults to 0
    assert isinstance(pacer(settings, "voice"), Throttle)


def test_a_zero_rate_is_refused(redis_url):
    with pytest.raises(ValueError):
        Throttle(redis.Redis.from_url(redis_url), "sms", 0)
