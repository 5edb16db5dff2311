"""notifier.frequency_guard: the pure counting rule, given explicit inputs.

The worker-level path (a topic alert's fan-out skipping capped residents) needs the
`alerts.topic` column that another branch adds; it is tested once the two meet.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from notifier.frequency_guard import applies, capped


def alert(topic="garbage", severity="Minor", urgency="Expected"):
    return SimpleNamespace(topic=topic, severity=severity, urgency=urgency)


def test_residents_at_the_limit_are_capped_and_the_others_not():
    already = {1: 3, 2: 2, 3: 5}
    assert capped(already, [1, 2, 3, 4], cap=3) == {1, 3}


def test_a_limit_of_zero_caps_nobody():
    assert capped({1: 99}, [1], cap=0) == set()


def test_a_resident_never_reached_today_is_not_capped_by_a_limit_of_one():
    assert capped({}, [7], cap=1) == set()
    assert capped({7: 1}, [7], cap=1) == {7}


@pytest.mark.parametrize("fields, cap, expected", [
    ({}, 2, True),
    ({"topic": None}, 2, False),  # an alert without a topic reaches everyone, uncapped
    ({}, 0, False),  # no limit set
    ({"severity": "Severe", "urgency": "Immediate"}, 2, False),  # a threat is never capped
    ({"severity": "Severe", "urgency": "Future"}, 2, True),
])
def test_the_guard_applies_only_to_routine_alerts_with_a_topic(fields, cap, expected):
    assert applies(alert(**fields), cap) is expected


def test_an_alert_model_without_a_topic_attribute_is_never_capped():
    assert applies(SimpleNamespace(severity="Minor", urgency="Future"), 5) is False


def test_counts_are_alerts_per_resident_one_whatever_the_channels(settings):
    from notifier.db import session_scope
    from notifier.frequency_guard import counts
    from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber

    with session_scope(settings.database_url) as session:
        ana = make_subscriber(session, email="ana@example.org")
        bo = make_subscriber(session, phone="+16175550199")
        first, second, other = (make_alert(session, severity="Minor") for _ in range(3))
        make_delivery(session, first, ana)
        make_delivery(session, first, ana, channel="email", address=ana.email)
        make_delivery(session, second, ana, status="scheduled", sent_at=None)
        make_delivery(session, first, bo, status="skipped")  # never reached Bo: not counted
        make_delivery(session, second, bo, status="cancelled")
        make_delivery(session, other, bo)  # not among the counted alerts
        assert counts(session, [first.id, second.id]) == {ana.id: 2}
        assert counts(session, [first.id, second.id], [bo.id]) == {}
        assert counts(session, []) == {}
