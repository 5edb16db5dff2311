"""Topics residents follow (road closures, meetings, crime tips) and whom a topic alert reaches.

The rule (DESIGN §12): an alert about a topic reaches only that topic's followers inside its
area; an alert without a topic, or Severe or Extreme whatever its topic, reaches everyone in
its area. `audience_topic` says which case an alert is, `followers` is the SQL of the
followers: notifier.reach applies both for the preview and the fan-out alike.
A topic's SMS keywords (JOIN TRAFFIC) belong to it alone: never a zone's, another topic's, or
a command word, so JOIN <word> means one thing.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from notifier import keywords as sms_keywords, text_rules
from notifier.errors import InvalidInput, NotFound
from notifier.models import SubscriberTopic, Topic, Zone
from notifier.subscriber_schema import language_tag

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as zone codes: safe in a URL and a text
# Any script's letters (a resident may text TRÁFICO or 交通), one word, as a zone's at most 30.
KEYWORD = re.compile(r"^[^\W_][\w-]{0,29}$")
MAX_NAME = 200
MAX_KEYWORDS = 20
MAX_LANGUAGES = 20
# A possible threat to life goes to everyone in the area, followers of the topic or not.
EVERYONE_SEVERITIES = ("Severe", "Extreme")


def audience_topic(alert) -> str | None:
    """The topic whose followers alone `alert` reaches, or None: everyone in its area."""
    if not getattr(alert, "topic", None) or alert.severity in EVERYONE_SEVERITIES:
        return None
    return alert.topic


def followers(code: str):
    """SELECT of the ids of the residents following topic `code`."""
    return select(SubscriberTopic.subscriber_id).where(SubscriberTopic.topic_code == code)


def known_codes(session: Session) -> set[str]:
    """Every topic's code (topics are few)."""
    return set(session.scalars(select(Topic.code)))


def check_codes(session: Session, codes, field: str = "topics") -> None:
    """Raise InvalidInput naming each of `codes` that is no topic."""
    unknown = [c for c in dict.fromkeys(codes or []) if c not in known_codes(session)]
    if unknown:
        raise InvalidInput({field: [f"There is no topic {c!r}." for c in unknown]})


def put_topic(session: Session, code, data, now: datetime) -> tuple[Topic, bool]:
    """Create or replace topic `code` from {"name": {tag: text}, "keywords": [...]}; return
    (topic, created). Raises InvalidInput naming each bad field (a colliding keyword by name)."""
    if not isinstance(data, dict):
        raise InvalidInput({"_schema": ["the topic must be an object"]})
    errors: dict[str, list] = {}
    if not isinstance(code, str) or not CODE.fullmatch(code):
        errors["code"] = ["must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"]
    if "code" in data and data["code"] != code:
        errors["code"] = [f"the body says {data['code']!r} but the address says {code!r}"]
    unknown = set(data) - {"name", "keywords", "code"}
    if unknown:
        errors["_schema"] = [f"unknown field(s): {', '.join(sorted(unknown))}"]
    name = _names(data.get("name"), errors)
    words = _keywords(session, data.get("keywords", []), code, errors)
    if "code" not in errors:  # JOIN <code> works too: a zone's word would shadow it
        owner = _taken_words(session, code).get(sms_keywords.normalize(code))
        if owner is not None:
            errors["code"] = [f"{code} is already the code or keyword of {owner}"]
    if errors:
        raise InvalidInput(errors)
    topic = session.get(Topic, code)
    created = topic is None
    if created:
        topic = Topic(code=code, created_at=now)
        session.add(topic)
    topic.name, topic.keywords, topic.updated_at = name, words, now
    session.flush()
    return topic, created


def _names(raw, errors: dict) -> dict:
    if not isinstance(raw, dict) or not raw:
        errors["name"] = ["is required: {language tag: name}, at least one language"]
        return {}
    if len(raw) > MAX_LANGUAGES:
        errors["name"] = [f"at most {MAX_LANGUAGES} languages"]
        return {}
    out, problems = {}, {}
    for key, text in raw.items():
        try:
            tag = language_tag(key)
        except ValueError as exc:
            problems[str(key)] = [str(exc)]
            continue
        if not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_NAME:
            problems[key] = [f"The name ({key}) must be text of 1-{MAX_NAME} characters."]
        elif tag in out:
            problems[key] = [f"Language {tag} is given twice."]
        else:
            try:
                out[tag] = text_rules.check(text.strip())
            except ValueError as exc:
                problems[key] = [str(exc)]
    if problems:
        errors["name"] = problems
    return out


def _taken_words(session: Session, code) -> dict[str, str]:
    """Normalized word → what owns it ("zone 'beat-3'", "topic 'meetings'"), but for this topic."""
    taken = {}
    for zone_code, words in session.execute(select(Zone.code, Zone.keywords)):
        for word in [zone_code, *(words or [])]:
            taken[sms_keywords.normalize(str(word))] = f"zone {zone_code!r}"
    for topic_code, words in session.execute(select(Topic.code, Topic.keywords)
                                             .where(Topic.code != code)):
        for word in [topic_code, *(words or [])]:
            taken[sms_keywords.normalize(str(word))] = f"topic {topic_code!r}"
    return taken


def _keywords(session: Session, raw, code, errors: dict) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        errors["keywords"] = ["must be a list of words"]
        return []
    if len(raw) > MAX_KEYWORDS:
        errors["keywords"] = [f"at most {MAX_KEYWORDS} keywords"]
        return []
    taken = _taken_words(session, code if isinstance(code, str) else None)
    out, problems = [], []
    for word in dict.fromkeys(k.strip().upper() for k in raw):
        owner = taken.get(sms_keywords.normalize(word))
        if not KEYWORD.fullmatch(word):
            problems.append(f"{word!r} must be one word of letters and digits (at most 30)")
        elif sms_keywords.is_command_word(word):
            # STOP, HELP, JOIN, LEAVE, language names…: JOIN <word> must never mean two things.
            problems.append(f"{word} is already an SMS command word")
        elif owner is not None:
            problems.append(f"{word} is already the keyword of {owner}")
        else:
            out.append(word)
    if problems:
        errors["keywords"] = problems
    return out


def get_topic(session: Session, code: str) -> Topic:
    """The topic; raises NotFound."""
    topic = session.get(Topic, code)
    if topic is None:
        raise NotFound(f"no topic {code!r}")
    return topic


def delete_topic(session: Session, code: str) -> int:
    """Delete the topic and who followed it; return how many did. Raises NotFound.

    Alerts keep its code: a sent alert's record must not change.
    """
    topic = get_topic(session, code)
    count = session.execute(delete(SubscriberTopic).where(SubscriberTopic.topic_code == code)).rowcount
    session.delete(topic)
    session.flush()
    return count or 0


def list_topics(session: Session) -> list[Topic]:
    """Every topic by code (an agency has a handful)."""
    return list(session.scalars(select(Topic).order_by(Topic.code)))


def follower_counts(session: Session, codes: list[str]) -> dict[str, int]:
    """Residents following each of `codes` (0 when none)."""
    counts = dict.fromkeys(codes, 0)
    if codes:
        counts.update(session.execute(
            select(SubscriberTopic.topic_code, func.count())
            .where(SubscriberTopic.topic_code.in_(codes)).group_by(SubscriberTopic.topic_code)).all())
    return counts


def name_in(topic_name: dict | None, language: str, fallback: str = "") -> str:
    """The topic's name for a reader of `language`: theirs, their base language's, else the first."""
    names = topic_name or {}
    if language in names:
        return names[language]
    base = (language or "").split("-")[0].lower()
    for tag, text in names.items():
        if tag.split("-")[0].lower() == base:
            return text
    return next(iter(names.values()), fallback)


def find_topic(session: Session, text: str | None) -> Topic | None:
    """The topic whose code or one of whose keywords `text` is (compared as keywords are)."""
    wanted = sms_keywords.normalize(text or "")
    if not wanted:
        return None
    for topic in list_topics(session):
        if any(sms_keywords.normalize(str(w)) == wanted for w in [topic.code, *(topic.keywords or [])]):
            return topic
    return None


def topic_dict(topic: Topic, followers_count: int | None = None) -> dict:
    """The API's view of a topic."""
    out = {"code": topic.code, "name": dict(topic.name or {}), "keywords": list(topic.keywords or []),
           "created_at": _iso(topic.created_at), "updated_at": _iso(topic.updated_at)}
    if followers_count is not None:
        out["followers"] = followers_count
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def preview_topic(session: Session, alert, reached: int) -> tuple[dict | None, list[str]]:
    """(the preview's "topic": {code, name, followers, only_followers}, or None without a
    topic; its warnings in plain words). `reached` is how many residents the area reaches."""
    if not getattr(alert, "topic", None):
        return None, []
    topic = session.get(Topic, alert.topic)
    count = follower_counts(session, [alert.topic])[alert.topic]
    only_followers = audience_topic(alert) is not None
    summary = {"code": alert.topic, "name": dict(topic.name) if topic else None,
               "followers": count, "only_followers": only_followers}
    if topic is None:
        return summary, [f"The topic {alert.topic!r} no longer exists: nobody follows it."]
    if only_followers:
        return summary, [f"Only followers of the topic {alert.topic!r} in the area receive it: "
                         f"{reached} of its {count} follower(s)."]
    return summary, [f"{alert.severity} alert: it reaches everyone in the area, whether they "
                     f"follow the topic {alert.topic!r} or not."]
