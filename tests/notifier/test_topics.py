"""notifier.topics: the audience rule (topic followers unless Severe/Extreme) as the reach
applies it beside zones and the test group, names by language, and what follows from it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier import approval, reach, topics
from notifier.audience import iter_recipients
from notifier.db import session_scope
from notifier.errors import InvalidInput
from notifier.models import Alert, SubscriberTopic
from tests.notifier.test_audience import add, add_zone, square

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
AREA = square(0, 0, 1, 1)


def alert(severity="Minor", topic="traffic", status="Actual", area=None) -> Alert:
    return Alert(identifier="t", status=status, msg_type="Alert", category="Safety", event="E",
                 headline="H", severity=severity, urgency="Expected", certainty="Likely",
                 messages={"en": "Main St closed."}, area=area or {"geojson": AREA},
                 channels=["sms"], topic=topic, created_by="t")


@pytest.fixture
def town(db_url):
    """ids: a follower and a non-follower inside AREA, a follower in zone `east` (no location),
    a follower outside, and a follower inside who is in the test group."""
    with session_scope(db_url) as session:
        topics.put_topic(session, "traffic", {"name": {"en": "Roads", "es": "Calles"}}, NOW)
        add_zone(session, "east", square(5, 5, 6, 6))
        ids = {"follower": add(session, at=[(0.5, 0.5)]), "other": add(session, at=[(0.5, 0.5)]),
               "east": add(session, zones=["east"]), "outside": add(session, at=[(9, 9)]),
               "tester": add(session, at=[(0.5, 0.5)], groups=["test"])}
        for name in ("follower", "east", "outside", "tester"):
            session.add(SubscriberTopic(subscriber_id=ids[name], topic_code="traffic"))
    return ids


def reached(db_url, a: Alert) -> set[int]:
    with session_scope(db_url, readonly=True) as session:
        found = reach.resolve(session, a)
        return set(found.ids.tolist()) if found.ids is not None else {"everyone"}


@pytest.mark.parametrize("severity, topic, who", [
    ("Minor", "traffic", {"follower", "tester"}),
    ("Unknown", "traffic", {"follower", "tester"}),
    ("Severe", "traffic", {"follower", "other", "tester"}),
    ("Extreme", "traffic", {"follower", "other", "tester"}),
    ("Minor", None, {"follower", "other", "tester"}),
])
def test_a_drawn_area_reaches_followers_only_when_the_alert_is_routine(db_url, town, severity,
                                                                      topic, who):
    assert reached(db_url, alert(severity, topic)) == {town[n] for n in who}


def test_zone_followers_and_everyone_alerts_are_narrowed_to_the_topic_too(db_url, town):
    east = alert(area={"zones": ["east"]})
    assert reached(db_url, east) == {town["east"]}
    everyone = alert(area={"everyone": True})
    assert reached(db_url, everyone) == {town[n] for n in ("follower", "east", "outside", "tester")}
    assert reached(db_url, alert("Severe", area={"everyone": True})) == {"everyone"}


def test_an_exercise_about_a_topic_reaches_only_testers_who_follow_it(db_url, town):
    assert reached(db_url, alert(status="Exercise")) == {town["tester"]}
    assert reached(db_url, alert(status="Exercise", area={"everyone": True})) == {town["tester"]}


def test_the_fan_out_yields_the_very_residents_the_reach_counts(db_url, town, settings):
    with session_scope(db_url, readonly=True) as session:
        ids = {r.subscriber_id for batch in iter_recipients(session, alert(), settings) for r in batch}
    assert ids == {town["follower"], town["tester"]}


def test_the_topic_is_part_of_the_approved_content_but_only_when_set():
    assert approval.content_digest(alert(topic=None)) != approval.content_digest(alert())
    # Left out while empty: an approval stored before topics existed still holds.
    assert "topic" in approval.LATER_CONTENT


def test_names_come_in_the_readers_language_else_the_first(db_url):
    names = {"en": "Roads", "es": "Calles"}
    assert topics.name_in(names, "es-MX") == "Calles"
    assert topics.name_in(names, "ko") == "Roads"
    assert topics.name_in({}, "en", "traffic") == "traffic"


def test_unknown_codes_are_named_and_a_deleted_topic_unfollows_its_followers(db_url, town):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput) as raised:
            topics.check_codes(session, ["traffic", "bingo", "nope"])
        assert raised.value.errors == {"topics": ["There is no topic 'bingo'.",
                                                  "There is no topic 'nope'."]}
        assert topics.delete_topic(session, "traffic") == 4
        assert topics.follower_counts(session, ["traffic"]) == {"traffic": 0}
