"""The account-wide limit on Twilio calls in flight, on a real Redis and the Twilio stand-in."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis

from channels.base import OutboundMessage, Receipt
from channels.registry import channel_for
from notifier.config import Settings
from notifier.errors import ConfigError
from tests.support.services import free_port
from workers.slots import AccountSlots, for_channel, slot_connection


def _messages(n: int, offset: int = 0) -> list[OutboundMessage]:
    return [OutboundMessage(delivery_id=offset + i, to=f"+1617555{offset + i:04d}",
                            body="Boil water", language="en") for i in range(n)]


def _sms(settings: Settings, slots: AccountSlots | None):
    chan = channel_for("sms", settings)
    chan.slots = slots
    return chan


def _settings(twilio_env, **extra) -> Settings:
    return Settings.from_env({**twilio_env, **{k: str(v) for k, v in extra.items()}})


def test_two_workers_together_keep_to_the_account_limit(twilio_env, twilio_standin):
    twilio_standin.latency = 0.05
    settings = _settings(twilio_env, SMS_CONCURRENCY=10, TWILIO_ACCOUNT_CONCURRENCY=6)
    outcomes: list = []
    accounts: list[AccountSlots] = []

    def worker(offset: int) -> None:
        # A connection of its own, as a worker process has.
        slots = AccountSlots(redis.Redis.from_url(settings.redis_url),
                             f"twilio:{settings.twilio_account_sid}", 6, settings.twilio_timeout)
        accounts.append(slots)
        outcomes.extend(_sms(settings, slots).send_batch(_messages(40, offset)))

    threads = [threading.Thread(target=worker, args=(o,)) for o in (0, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 80 and all(isinstance(o, Receipt) for o in outcomes)
    # Each worker alone would have had 10 in flight.
    assert twilio_standin.max_in_flight <= 6
    assert accounts[0].held() == 0  # every slot went back at the batches' end


def test_without_the_limit_each_worker_keeps_its_own_concurrency(twilio_env, twilio_standin):
    twilio_standin.latency = 0.05
    settings = _settings(twilio_env, SMS_CONCURRENCY=10, TWILIO_ACCOUNT_CONCURRENCY=0)
    chan = channel_for("sms", settings)
    assert for_channel(settings, chan) is None
    outcomes = chan.send_batch(_messages(30))
    assert all(isinstance(o, Receipt) for o in outcomes)
    assert twilio_standin.max_in_flight == 10


def test_a_batch_reuses_its_slots_instead_of_asking_redis_for_each_call(twilio_env,
                                                                         twilio_standin):
    settings = _settings(twilio_env, SMS_CONCURRENCY=5)
    slots = for_channel(settings, channel_for("sms", settings))
    batches = []
    original = slots.batch

    def batch():
        batches.append(original())
        return batches[-1]

    slots.batch = batch
    outcomes = _sms(settings, slots).send_batch(_messages(100))
    assert all(isinstance(o, Receipt) for o in outcomes)
    assert batches[0].taken <= 10  # 100 calls, 5 at a time: a few slots, reused
    assert slots.held() == 0


def test_a_killed_workers_slots_free_themselves_when_their_lease_runs_out(twilio_env,
                                                                          twilio_standin):
    settings = _settings(twilio_env, TWILIO_ACCOUNT_CONCURRENCY=3)
    slots = AccountSlots(redis.Redis.from_url(settings.redis_url), "twilio:test", 3, 1.0,
                         max_wait=0.2)
    slots.lease = 0.3  # a lease that runs out within the test
    dead = slots.batch()

    async def take_all():
        return [await dead.acquire() for _ in range(3)]


    assert None not in asyncio.run(take_all())  # the killed worker never gives them back
    assert slots.held() == 3
    time.sleep(0.4)
    alive = slots.batch()
    assert asyncio.run(alive.acquire()) is not None
    assert not alive.degraded


def test_a_batch_that_finds_no_slot_in_time_goes_on_without_and_says_so(twilio_env,
                                                                        twilio_standin, caplog):
    settings = _settings(twilio_env, SMS_CONCURRENCY=4, TWILIO_ACCOUNT_CONCURRENCY=2)
    slots = AccountSlots(redis.Redis.from_url(settings.redis_url),
                         f"twilio:{settings.twilio_account_sid}", 2, 15.0, max_wait=0.3)

    hog = slots.batch()
    asyncio.run(hog.acquire())
    asyncio.run(hog.acquire())  # another worker holds every slot for its long lease
    started = time.monotonic()
    outcomes = _sms(settings, slots).send_batch(_messages(8))
    assert time.monotonic() - started < 3
    assert all(isinstance(o, Receipt) for o in outcomes)
    assert "no slot free within 0.3 s" in caplog.text


def test_a_redis_that_does_not_answer_does_not_stall_delivery(twilio_env, twilio_standin,
                                                             caplog):
    # Nothing listens on this port: every slot call fails at once.
    settings = _settings({**twilio_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                         SMS_CONCURRENCY=5)
    slots = for_channel(settings, channel_for("sms", settings))
    started = time.monotonic()
    outcomes = _sms(settings, slots).send_batch(_messages(20))
    assert time.monotonic() - started < 5
    assert all(isinstance(o, Receipt) for o in outcomes)
    assert "account-wide concurrency" in caplog.text and "Redis error" in caplog.text


def test_only_twilio_channels_that_really_send_keep_to_the_account_limit(twilio_env,
                                                                         sandbox_settings):
    settings = _settings(twilio_env)
    assert settings.twilio_account_concurrency == 200
    assert for_channel(settings, channel_for("sms", settings)).limit == 200
    assert for_channel(settings, channel_for("voice", settings)) is not None
    assert for_channel(settings, channel_for("email", settings)) is None
    assert for_channel(sandbox_settings, channel_for("sms", sandbox_settings)) is None


def test_the_slot_connection_gives_up_fast(twilio_env):
    settings = _settings(twilio_env)
    conn = slot_connection(settings)
    assert conn.connection_pool.connection_kwargs["socket_timeout"] == 1.0


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_account_concurrency_stops_start_up_with_its_name(twilio_env, value):
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_CONCURRENCY"):
        _settings(twilio_env, TWILIO_ACCOUNT_CONCURRENCY=value)
