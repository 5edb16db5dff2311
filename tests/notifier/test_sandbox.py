"""The sandbox's outside: recorded messages by address and channel, simulated inbound texts."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier import sandbox
from notifier.db import session_scope
from notifier.errors import InvalidInput
from notifier.models import SandboxMessage

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def test_it_normalises_the_address_as_stored():
    assert sandbox.recipient("(617) 555-0100", "US") == "+16175550100"
    assert sandbox.recipient(" Ana@Example.org ", "US") == "ana@example.org"
    assert sandbox.recipient("12", "US") == "12" and sandbox.recipient("  ", "US") is None


def test_a_simulated_text_replies_and_records_the_reply_as_an_sms(settings):
    with session_scope(settings.database_url) as session:
        reply = sandbox.simulate_inbound(session, settings, "617-555-0100", "JOIN", NOW)
        assert "subscribed" in reply
        items, total = sandbox.messages(session, channel="sms", to="+16175550100")
        assert total == 1 and items[0].body == reply
        assert sandbox.messages(session, channel="email")[1] == 0


def test_it_names_the_bad_fields(settings):
    with session_scope(settings.database_url) as session:
        with pytest.raises(InvalidInput) as caught:
            sandbox.simulate_inbound(session, settings, "12", None, NOW)
    assert set(caught.value.errors) == {"from", "body"}


def test_messages_come_newest_first_and_paged(settings):
    with session_scope(settings.database_url) as session:
        for i in range(3):
            session.add(SandboxMessage(at=NOW, channel="sms", to="+16175550100", body=f"m{i}",
                                       provider_id=f"SB{i}"))
        session.flush()
        items, total = sandbox.messages(session, page=1, per_page=2)
        assert total == 3 and [m.body for m in items] == ["m2", "m1"]
