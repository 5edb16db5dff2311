"""JOIN <topic> and LEAVE <topic> by text: zones keep working beside them, HELP lists topics,
replies come in the resident's language, and a stopped number is answered nothing."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from notifier import keywords
from notifier.conversation import handle_inbound
from notifier.db import session_scope
from notifier.models import InboundMessage, Subscriber, SubscriberTopic
from notifier.subscriptions import opt_out
from notifier.topics import put_topic
from notifier.zones import put_zone
from tests.notifier.test_conversation import NOW, PHONE

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


@pytest.fixture
def text(settings):
    """text(body, at=NOW) → the reply to a text from PHONE, or None."""
    serial = itertools.count(1)

    def send(body, at=NOW):
        with session_scope(settings.database_url) as session:
            reply = handle_inbound(session, settings, PHONE, "+15005550006", body,
                                   f"SM{next(serial):032d}", at)
            return None if reply is None else reply.text
    return send


def setup(settings):
    with session_scope(settings.database_url) as session:
        put_topic(session, "traffic", {"name": {"en": "road closure", "es": "cierre de calles"},
                                       "keywords": ["traffic", "roads"]}, NOW)
        put_topic(session, "meetings", {"name": {"en": "community meeting"}}, NOW)
        put_zone(session, "beat-3", {"name": "Beat 3", "geometry": SQUARE, "keywords": ["beat3"]},
                 NOW)


def followed(settings) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return sorted(session.scalars(select(SubscriberTopic.topic_code).join(
            Subscriber, Subscriber.id == SubscriberTopic.subscriber_id).where(Subscriber.phone == PHONE)))


def test_join_and_a_topic_keyword_or_code_subscribes_and_follows_it(text, settings):
    setup(settings)
    reply = text("JOIN TRAFFIC")
    assert reply.startswith("Tocsin demo: You are subscribed to emergency alerts. You will "
                            "receive road closure messages. Text LEAVE TRAFFIC to stop them.")
    assert followed(settings) == ["traffic"]
    assert "community meeting" in text("join meetings")
    assert followed(settings) == ["meetings", "traffic"]
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalars(select(InboundMessage.keyword).order_by(InboundMessage.id)).all() \
            == ["join_topic", "join_topic"]


def test_leave_and_a_topic_stops_following_only_that_topic(text, settings):
    setup(settings)
    text("JOIN roads")
    text("JOIN meetings")
    reply = text("LEAVE traffic")
    assert reply == ("Tocsin demo: You will no longer receive road closure messages. Alerts "
                     "about dangers in your area still reach you.")
    assert followed(settings) == ["meetings"]
    # Topics by code, each by its first keyword (or its code).
    assert text("LEAVE bingo", at=NOW + timedelta(hours=1)).endswith(
        'We could not find the topic "bingo". Topics: MEETINGS, TRAFFIC.')


def test_join_a_zone_still_works_beside_topics(text, settings):
    setup(settings)
    assert "You will receive alerts for Beat 3." in text("JOIN beat3")
    assert followed(settings) == []
    assert 'We could not find the area "atlantis"' in text("JOIN atlantis")


def test_help_says_how_to_join_topics_only_when_there_are_some(text, settings):
    assert "Topics" not in text("HELP")
    setup(settings)
    reply = text("HELP", at=NOW + timedelta(hours=1))
    assert reply.endswith("Reply STOP to opt out, START to subscribe. "
                          "Topics: text JOIN and a topic: MEETINGS, TRAFFIC.")


def test_the_topic_name_comes_in_the_residents_language(text, settings):
    setup(settings)
    text("ESPAÑOL")
    reply = text("JOIN TRAFFIC")
    assert "cierre de calles" in reply and "road closure" not in reply


def test_a_stopped_number_is_answered_nothing_when_it_leaves_a_topic(text, settings):
    setup(settings)
    text("JOIN traffic")
    with session_scope(settings.database_url) as session:
        opt_out(session, PHONE, "sms", "keyword", "STOP", NOW)
    assert text("LEAVE traffic") is None
    assert text("LEAVE bingo") is None
    assert text("HELP") is None
    assert followed(settings) == []  # the change is kept, only the reply is not sent


def test_leave_without_any_topic_goes_to_the_inbox(text, settings):
    assert "We received your message" in text("LEAVE traffic")


def test_leave_is_a_command_word_no_zone_or_topic_may_take():
    assert keywords.is_command_word("LEAVE") and keywords.is_command_word("join")
    assert keywords.parse("LEAVE TRAFFIC") == keywords.Keyword(
        keywords.LEAVE_TOPIC, "leave traffic", (), "traffic")
    assert not keywords.is_command_word("TRAFFIC")
