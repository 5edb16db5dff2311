"""The shared rate limit, on a real Redis, used by two workers at once; SMS count segments."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter

import pytest
import redis

from notifier.config import Settings
from notifier.errors import ConfigError
from workers.queues import batch_size_for, job_timeout
from workers.throttle import PLANNED_SEGMENTS, Throttle, pacer

START = 1_000_000.0  # a window start at any rate of a second or more


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
    assert pacer(settings, "sms") is None  # no Twilio sender: nothing to pace SMS for
    assert isinstance(pacer(settings, "voice"), Throttle)


def test_a_zero_rate_is_refused(redis_url):
    with pytest.raises(ValueError):
        Throttle(redis.Redis.from_url(redis_url), "sms", 0)


class FakeTime:
    """A clock that the throttle's own sleeps move on: no test waits real seconds."""

    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def released(throttle: Throttle, clock: FakeTime, costs: list[int]) -> list[float]:
    """When each message of `costs` permits may go, sent one after another."""
    async def main():
        times = []
        for cost in costs:
            await throttle.pace(cost)
            times.append(clock.now)
        return times

    return asyncio.run(main())


def throttle_on(redis_url: str, clock: FakeTime, sender: str, rate: float = 10) -> Throttle:
    return Throttle(redis.Redis.from_url(redis_url), "sms", rate, clock, sender=sender,
                    sleep=clock.sleep)


def test_a_message_of_three_segments_takes_three_permits(redis_url):
    single, triple = FakeTime(), FakeTime()
    ones = released(throttle_on(redis_url, single, uuid.uuid4().hex), single, [1] * 10)
    threes = throttle_on(redis_url, triple, uuid.uuid4().hex)

    times = released(threes, triple, [3] * 10)

    # At 10 segments a second, ten one-segment messages fit in the first second…
    assert ones == pytest.approx([START + i / 10 for i in range(10)], abs=1e-6)
    # … and ten of three segments take three: each goes with its third permit.
    assert times == pytest.approx([START + (3 * i + 2) / 10 for i in range(10)], abs=1e-6)
    assert threes.spent == 30


def test_messages_sent_together_go_one_by_one_not_all_at_the_end(redis_url):
    # 8 messages of 2 segments at 20 a second, all in flight at once. Each reserves its two
    # permits in a row: they go 0.1 s apart over 0.7 s. Interleaved (each taking one, then
    # the second), none would go before the 9th permit and all would go within 0.35 s.
    throttle = Throttle(redis.Redis.from_url(redis_url), "sms", 20, sender=uuid.uuid4().hex)
    stamps: list[float] = []

    async def main():
        async def one():
            await throttle(2)
            stamps.append(time.time())
        await asyncio.gather(*(one() for _ in range(8)))

    asyncio.run(main())

    assert max(stamps) - min(stamps) >= 0.6
    assert throttle.spent == 16


def test_a_message_longer_than_a_window_waits_for_all_its_segments(redis_url):
    clock = FakeTime()
    throttle = throttle_on(redis_url, clock, uuid.uuid4().hex, rate=1)

    assert released(throttle, clock, [4, 1]) == pytest.approx([START + 3, START + 4], abs=1e-6)


def test_workers_sending_from_one_number_share_its_rate(redis_url):
    number = uuid.uuid4().hex
    first, second = FakeTime(), FakeTime()
    released(throttle_on(redis_url, first, number), first, [1] * 10)

    later = released(throttle_on(redis_url, second, number), second, [1] * 10)

    assert min(later) >= START + 1  # the first second's ten segments were the other's


def test_two_senders_on_one_redis_keep_their_own_rates(redis_url):
    first, second = FakeTime(), FakeTime()
    released(throttle_on(redis_url, first, uuid.uuid4().hex), first, [1] * 10)

    other = released(throttle_on(redis_url, second, uuid.uuid4().hex), second, [1] * 10)

    assert max(other) < START + 1


TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "0" * 32}


def sms_settings(env: dict, **variables: str) -> Settings:
    return Settings.from_env({**env, **TWILIO, "TWILIO_FROM_NUMBER": "+16175550100",
                              **variables})


def test_sms_are_paced_per_sender_and_other_channels_per_channel(env):
    by_number = sms_settings(env)
    # A service is unpaced by default (Twilio paces its pool): give it a rate to get a pacer.
    by_service = sms_settings(env, TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32,
                              SMS_PER_SECOND="50")

    assert pacer(by_number, "sms").key == "tocsin:pace:sms:+16175550100"
    assert pacer(by_service, "sms").key == "tocsin:pace:sms:MG" + "1" * 32
    assert pacer(by_number, "voice").key == "tocsin:pace:voice"


@pytest.mark.parametrize("number, kind, rate", [
    ("+16175550100", "long_code", 1),
    ("+18005550100", "toll_free", 3),
    ("+18885550100", "toll_free", 3),
    ("+18085550100", "long_code", 1),  # Hawaii, not toll-free
    ("12345", "short_code", 100),
    ("894546", "short_code", 100),
    ("+4915112345678", "long_code", 1),
])
def test_the_sender_number_sets_the_default_rate_in_segments(env, number, kind, rate):
    settings = sms_settings(env, TWILIO_FROM_NUMBER=number)

    assert (settings.sms_sender_type, settings.per_second["sms"]) == (kind, rate)
    assert pacer(settings, "sms").per_second == rate


def test_the_sender_type_can_be_named_and_a_rate_given_wins(env):
    assert sms_settings(env, SMS_SENDER_TYPE="toll_free").per_second["sms"] == 3
    assert sms_settings(env, SMS_SENDER_TYPE="Short-Code").per_second["sms"] == 100
    # SMS_PER_SECOND as before, now counted in segments; 0 is still no limit.
    assert sms_settings(env, SMS_SENDER_TYPE="short_code", SMS_PER_SECOND="40"
                        ).per_second["sms"] == 40
    assert pacer(sms_settings(env, SMS_PER_SECOND="0"), "sms") is None


def test_a_messaging_service_is_left_to_twilio_s_own_pacing_unless_told(env):
    service = {"TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}

    assert sms_settings(env, **service).sms_sender_type == "messaging_service"
    assert sms_settings(env, **service).per_second["sms"] == 0
    assert sms_settings(env, **service, SMS_PER_SECOND="250").per_second["sms"] == 250


def test_the_sandbox_paces_no_sms(env):
    assert sms_settings(env, SANDBOX="1").per_second["sms"] == 0


@pytest.mark.parametrize("variables, name", [
    ({"SMS_SENDER_TYPE": "mega_code"}, "SMS_SENDER_TYPE"),
    ({"SMS_PER_SECOND": "fast"}, "SMS_PER_SECOND"),
    ({"SMS_PER_SECOND": "-1"}, "SMS_PER_SECOND"),
])
def test_a_bad_pacing_setting_stops_start_up_naming_it(env, variables, name):
    with pytest.raises(ConfigError) as caught:
        sms_settings(env, **variables)

    assert caught.value.variable == name
    assert name in str(caught.value)


def test_sms_jobs_are_sized_for_messages_of_a_few_segments(env):
    settings = sms_settings(env)  # a long code: one segment a second

    size = batch_size_for(settings, "sms")

    assert size == 120 // PLANNED_SEGMENTS  # about two minutes of work, as for voice
    assert job_timeout(settings, "sms", size) >= 4 * size * PLANNED_SEGMENTS
