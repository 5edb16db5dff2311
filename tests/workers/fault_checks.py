"""What every fault test checks after the dust settles (issue 10): one message each, nobody
else, nothing unfinished, the audit chain intact."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from notifier import audit, deliveries
from notifier.db import session_scope
from tests.workers.helpers import deliveries_of

UNFINISHED = frozenset({deliveries.PENDING, deliveries.SENDING, deliveries.RETRY_WAIT})


def handed_over(standin=None, smtp=None) -> Counter:
    """How many messages each address received: SMS/calls the Twilio stand-in accepted (201,
    by `To`), emails the SMTP server accepted (each envelope recipient)."""
    got: Counter = Counter()
    if standin is not None:
        got.update(r.form.get("To") for r in standin.requests if r.method == "POST"
                   and r.status == 201 and r.form.get("To"))
    if smtp is not None:
        for message in smtp.messages:
            got.update(message.rcpt_tos)
    return got


def assert_alert_completed(db_url: str, alert_id: int, received: Counter, *,
                           expected: Iterable[str], in_flight_extra: int = 0) -> None:
    """Every address in `expected` got exactly one message (at most `in_flight_extra` of them
    two, the messages in flight at a crash), no other address got any, no delivery of the
    alert is left unfinished, and the audit chain verifies."""
    expected = set(expected)
    strangers = set(received) - expected
    assert not strangers, f"{len(strangers)} addresses got a message they were never sent"
    missing = sorted(a for a in expected if received[a] == 0)
    assert not missing, f"{len(missing)} residents got nothing, e.g. {missing[:3]}"
    twice = sum(received[a] - 1 for a in expected if received[a] > 1)
    assert twice <= in_flight_extra, f"{twice} extra messages (at most {in_flight_extra} allowed)"
    left = Counter(r.status for r in deliveries_of(db_url, alert_id) if r.status in UNFINISHED)
    assert not left, f"deliveries left unfinished: {dict(left)}"
    with session_scope(db_url, readonly=True) as session:
        ok, broken_at = audit.verify_chain(session)
    assert ok, f"the audit chain breaks at event {broken_at}"
