"""Sign-in counters on a real Redis: reserved atomically before the check, per account and address."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from threading import Barrier

import pytest
import redis

from admin_ui.pages import throttle
from notifier import login_policy

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
A, B = "198.51.100.7", "203.0.113.9"


@pytest.fixture
def conn(redis_url):
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def _reserve(conn, name="dana", address=A, at=T0, kind=throttle.PASSWORD):
    return throttle.reserve(conn, kind, name, address, at)


def test_a_parallel_burst_gets_exactly_the_limit_through(redis_url):
    burst = 40
    barrier = Barrier(burst)

    def attempt(_):
        connection = redis.Redis.from_url(redis_url)
        barrier.wait()
        try:
            return _reserve(connection).allowed
        finally:
            connection.close()

    with ThreadPoolExecutor(burst) as pool:
        allowed = list(pool.map(attempt, range(burst)))
    assert allowed.count(True) == login_policy.MAX_FAILURES


def test_after_five_failures_each_attempt_waits_longer(conn):
    for n in range(1, 6):
        assert _reserve(conn).failures == n
    refused = _reserve(conn, at=T0 + timedelta(seconds=59))
    assert (refused.allowed, refused.scope, refused.retry_after) == (False, "account", 1)
    assert _reserve(conn, at=T0 + timedelta(seconds=60)).allowed  # the 6th, a minute later
    waiting = _reserve(conn, at=T0 + timedelta(seconds=61))
    assert not waiting.allowed and waiting.retry_after == 119  # now two minutes
    assert _reserve(conn, at=T0 + timedelta(seconds=180)).failures == 7


def test_failures_at_one_address_never_delay_the_account_at_another(conn):
    for _ in range(8):
        _reserve(conn, address=A)
    assert not _reserve(conn, address=A).allowed
    assert _reserve(conn, address=B).allowed


def test_one_address_is_refused_after_twenty_failures_whatever_the_names(conn):
    results = [_reserve(conn, name=f"name-{i}") for i in range(30)]
    assert [r.allowed for r in results] == [True] * login_policy.ADDRESS_LIMIT + [False] * 10
    refused = results[-1]
    assert refused.scope == "address" and 0 < refused.retry_after <= login_policy.WINDOW_SECONDS
    assert refused.refused == 10
    assert _reserve(conn, name="name-0", address=B).allowed


def test_a_success_clears_the_account_and_hands_the_address_its_attempt_back(conn):
    for _ in range(4):
        _reserve(conn)
    throttle.succeeded(conn, throttle.PASSWORD, "dana", A)
    assert _reserve(conn).failures == 1
    for i in range(20):
        _reserve(conn, name="someone")
        throttle.succeeded(conn, throttle.PASSWORD, "someone", A)
    assert _reserve(conn, name="other").allowed  # 20 right sign-ins used up no limit


def test_codes_are_counted_apart_from_passwords_and_not_per_address(conn):
    for _ in range(5):
        _reserve(conn, kind=throttle.CODE)
    assert not _reserve(conn, kind=throttle.CODE).allowed
    assert _reserve(conn).allowed
    assert all(_reserve(conn, name=f"n{i}", kind=throttle.CODE).allowed for i in range(25))


def test_keys_name_neither_the_account_nor_the_address(conn):
    _reserve(conn, name="dana")
    throttle.count_unknown_name(conn)
    keys = b" ".join(conn.keys("*"))
    assert b"dana" not in keys and A.encode() not in keys


def test_it_lets_sign_ins_through_when_redis_is_unreachable():
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert _reserve(dead).allowed
    throttle.succeeded(dead, throttle.PASSWORD, "dana", A)  # no exception either
