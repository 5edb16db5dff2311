"""The gate before each hand-over: hints from real Redis, confirmed in the real SQL ledger."""
from __future__ import annotations

import asyncio
import inspect

import redis

from channels.base import OutboundMessage
from notifier import alerts, subscriptions
from notifier.db import session_scope
from notifier.deliveries import Claimed
from workers.gate import CANCELLED, CLIENT_NAME, OPTED_OUT, POLL_SECONDS, Gate

from tests.workers.helpers import add_alert, now

ANA, BEN = "+16175550000", "+16175550001"


def gate_for(db_url, redis_url, alert_id, clock=None) -> tuple[Gate, list[OutboundMessage]]:
    claimed = {i: Claimed(i, alert_id, None, "sms", address, "en", 1)
               for i, address in enumerate((ANA, BEN), 1)}
    messages = [OutboundMessage(i, c.address, "Stay indoors.", "en") for i, c in claimed.items()]
    kwargs = {"clock": clock} if clock else {}
    return Gate(db_url, "sms", claimed, redis_url, **kwargs), messages


async def answer(gate: Gate, message: OutboundMessage):
    """The gate's answer just before a hand-over, awaited as a channel does."""
    reason = gate(message, True)
    return await reason if inspect.isawaitable(reason) else reason


def final(gate: Gate, message: OutboundMessage):
    """The answer in an event loop of its own, as a batch of one would get it."""
    async def ask():
        try:
            return await answer(gate, message)
        finally:
            await gate.aclose()
    return asyncio.run(ask())


def in_one_batch(gate: Gate, steps):
    """Run `steps(ask)` in one event loop, with the gate subscribed throughout, as a batch
    does; `ask(message)` is the gate's answer just before that message's hand-over."""
    async def batch():
        try:
            return await steps(lambda message: answer(gate, message))
        finally:
            await gate.aclose()
    return asyncio.run(batch())


def drop_subscription(redis_url: str) -> None:
    """Redis closes this test's gate subscription, as a restart would."""
    conn = redis.Redis.from_url(redis_url)
    db = conn.connection_pool.connection_kwargs.get("db", 0)
    [gate] = [c for c in conn.client_list() if c["name"] == CLIENT_NAME and c["db"] == str(db)
              and c["sub"] == "1"]
    conn.client_kill_filter(_id=gate["id"])


def test_a_stop_committed_mid_batch_withholds_that_residents_message_only(db_url, redis_url):
    gate, (ana, ben) = gate_for(db_url, redis_url, add_alert(db_url))
    assert final(gate, ana) is None
    with session_scope(db_url, redis_url=redis_url) as session:
        subscriptions.opt_out(session, ANA, "sms", "keyword", "STOP", now())
    assert gate(ana, False) is None  # before pacing: only what is already known
    assert final(gate, ana) == OPTED_OUT
    assert gate(ana, False) == OPTED_OUT
    assert final(gate, ben) is None


def test_a_stop_committed_while_the_batch_is_subscribed_reaches_its_next_hand_over(
        db_url, redis_url):
    gate, (ana, ben) = gate_for(db_url, redis_url, add_alert(db_url))

    async def steps(ask):
        before = await ask(ana)
        with session_scope(db_url, redis_url=redis_url) as session:
            subscriptions.opt_out(session, ANA, "sms", "keyword", "STOP", now())
        return before, await ask(ana), await ask(ben)

    assert in_one_batch(gate, steps) == (None, OPTED_OUT, None)


def test_a_cancel_committed_while_the_batch_is_subscribed_withholds_all_its_messages(
        db_url, redis_url):
    alert_id = add_alert(db_url)
    gate, (ana, ben) = gate_for(db_url, redis_url, alert_id)

    async def steps(ask):
        before = await ask(ana)
        with session_scope(db_url, redis_url=redis_url) as session:
            alerts.cancel_alert(session, alert_id, "test", now())
        return before, await ask(ben), gate(ana, False)

    assert in_one_batch(gate, steps) == (None, CANCELLED, CANCELLED)


def test_once_the_subscription_is_lost_each_message_is_checked_in_sql(db_url, redis_url):
    gate, (ana, ben) = gate_for(db_url, redis_url, add_alert(db_url))

    async def steps(ask):
        before = await ask(ana)
        drop_subscription(redis_url)
        with session_scope(db_url) as session:  # a session that publishes no hints
            subscriptions.opt_out(session, BEN, "sms", "keyword", "STOP", now())
        return before, await ask(ben)

    assert in_one_batch(gate, steps) == (None, OPTED_OUT)


def test_a_hint_the_ledger_no_longer_confirms_withholds_nothing(db_url, redis_url):
    gate, (ana, _) = gate_for(db_url, redis_url, add_alert(db_url))
    with session_scope(db_url, redis_url=redis_url) as session:
        subscriptions.opt_out(session, ANA, "sms", "keyword", "STOP", now())
    with session_scope(db_url, redis_url=redis_url) as session:
        subscriptions.opt_in(session, ANA, "sms", "keyword", "START", now())
    assert final(gate, ana) is None


def test_a_rolled_back_cancel_leaves_no_hint(db_url, redis_url):
    alert_id = add_alert(db_url)
    try:
        with session_scope(db_url, redis_url=redis_url) as session:
            alerts.cancel_alert(session, alert_id, "test", now())
            raise RuntimeError("the request failed after all")
    except RuntimeError:
        pass
    assert redis.Redis.from_url(redis_url).keys("tocsin:cancelled:*") == []
    gate, (ana, _) = gate_for(db_url, redis_url, alert_id)
    assert final(gate, ana) is None


def test_a_cancel_whose_hint_was_lost_is_found_by_the_sql_poll(db_url, redis_url):
    alert_id = add_alert(db_url)
    clock = [0.0]
    gate, (ana, ben) = gate_for(db_url, redis_url, alert_id,
                                clock=lambda: clock[0])
    with session_scope(db_url) as session:  # a session that publishes no hints
        alerts.cancel_alert(session, alert_id, "test", now())
    assert final(gate, ana) is None
    clock[0] += POLL_SECONDS
    assert final(gate, ana) == CANCELLED
    assert gate(ben, False) == CANCELLED


def test_without_redis_each_message_is_checked_in_sql(db_url, redis_url):
    alert_id = add_alert(db_url)
    with session_scope(db_url) as session:
        subscriptions.opt_out(session, BEN, "sms", "keyword", "STOP", now())
    unreachable = "redis://127.0.0.1:1/0?socket_connect_timeout=0.2"
    gate, (ana, ben) = gate_for(db_url, unreachable, alert_id)
    assert final(gate, ana) is None
    assert final(gate, ben) == OPTED_OUT
