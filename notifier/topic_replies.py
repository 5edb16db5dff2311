"""Texts about topics in the SMS conversation: JOIN <topic>, LEAVE <topic>, HELP's topic list.

Kept beside notifier.conversation, which calls these with its own turn and `say`: a topic is
joined like a zone (JOIN is an opt-in word, so a stopped number opts in again) and left
without touching anything else the resident receives.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from notifier import topics
from notifier.i18n import N_
from notifier.models import SubscriberTopic

# Translators: keep JOIN and LEAVE in English: they are the words residents text back.
# %(topic)s is the topic's name, %(keyword)s the word that names it (TRAFFIC).
TOPIC_JOINED = N_("You will receive %(topic)s messages. Text LEAVE %(keyword)s to stop them.")
TOPIC_LEFT = N_("You will no longer receive %(topic)s messages. Alerts about dangers in your "
                "area still reach you.")
TOPIC_UNKNOWN = N_("We could not find the topic \"%(code)s\". Topics: %(topics)s.")
HELP_TOPICS = N_("Topics: text JOIN and a topic: %(topics)s.")
MAX_LISTED = 8  # an SMS is short: the first topics' words, the rest on the agency's site


def word_of(topic) -> str:
    """The word a resident texts for `topic`: its first keyword, else its code."""
    return (topic.keywords or [topic.code.upper()])[0]


def listing(session: Session) -> str | None:
    """"TRAFFIC, MEETINGS": the words of the first topics, or None when there are none."""
    found = topics.list_topics(session)[:MAX_LISTED]
    return ", ".join(word_of(t) for t in found) if found else None


def follow(sub, topic) -> bool:
    """Make `sub` follow `topic`; True when they did not already."""
    if any(link.topic_code == topic.code for link in sub.topic_links):
        return False
    sub.topic_links.append(SubscriberTopic(topic_code=topic.code))
    return True


def unfollow(sub, topic) -> None:
    """`sub` follows `topic` no more (a non-follower, or no subscriber at all, changes nothing)."""
    if sub is not None:
        sub.topic_links = [link for link in sub.topic_links if link.topic_code != topic.code]


def joined_part(topic, language: str) -> tuple[str, dict]:
    return TOPIC_JOINED, {"topic": topics.name_in(topic.name, language, topic.code),
                          "keyword": word_of(topic)}


def left_part(topic, language: str) -> tuple[str, dict]:
    return TOPIC_LEFT, {"topic": topics.name_in(topic.name, language, topic.code)}


def unknown_part(code: str, listed: str) -> tuple[str, dict]:
    return TOPIC_UNKNOWN, {"code": code[:30], "topics": listed}
