"""The sandbox channel accepts everything and sends nothing."""
from __future__ import annotations

import re

from channels.base import OutboundMessage, Receipt
from channels.sandbox import SandboxChannel


def messages(n: int) -> list[OutboundMessage]:
    return [OutboundMessage(delivery_id=i, to=f"+1617555{i:04d}", body="Test", language="en")
            for i in range(n)]


def test_it_returns_a_simulated_receipt_for_every_message():
    outcomes = SandboxChannel("sms").send_batch(messages(25))

    assert [o.delivery_id for o in outcomes] == list(range(25))
    assert all(isinstance(o, Receipt) and o.simulated for o in outcomes)
    assert all(re.fullmatch(r"SB[0-9a-f]{32}", o.provider_id) for o in outcomes)
    assert len({o.provider_id for o in outcomes}) == 25


def test_it_stands_in_for_any_channel_by_name():
    for name in ("sms", "voice", "email", "social"):
        channel = SandboxChannel(name)
        assert channel.name == name and channel.simulated
        [receipt] = channel.send_batch(messages(1))
        assert receipt.simulated


def test_it_reports_each_outcome_to_the_caller():
    seen = []

    SandboxChannel("email", concurrency=3).send_batch(messages(7), on_outcome=seen.append)

    assert sorted(o.delivery_id for o in seen) == list(range(7))


def test_it_waits_for_the_shared_pace_before_each_message():
    paced = []

    async def pace(cost):
        paced.append(cost)

    SandboxChannel("sms", pace=pace).send_batch(messages(5))

    assert paced == [1] * 5  # a sandbox counts messages, whatever the channel's name
