"""`/api/v1/topics`: what routine alerts are about; residents follow the ones they want."""
from __future__ import annotations

from flask import abort

from admin_ui import db
from admin_ui.api import bp, json_body, now, record, requires
from notifier import topics
from notifier.errors import NotFound

READ_TOPICS = ("dispatcher", "auditor")  # who composes alerts, and who checks them


@bp.put("/topics/<code>")
@requires()  # admin only: a topic's keywords are SMS words every resident may text
def put_topic(code: str):
    """201 with the new topic, 200 when it replaced one; 422 naming each bad field."""
    session = db()
    topic, created = topics.put_topic(session, code, json_body(), now())
    record("topic.create" if created else "topic.replace", f"topic:{code}",
           {"name": topic.name, "keywords": topic.keywords})
    return topics.topic_dict(topic, topics.follower_counts(session, [code])[code]), \
        201 if created else 200


@bp.get("/topics")
@requires(*READ_TOPICS)
def list_topics():
    """{"items": [topic…]} by code, each with its number of followers."""
    session = db()
    items = topics.list_topics(session)
    counts = topics.follower_counts(session, [t.code for t in items])
    return {"items": [topics.topic_dict(t, counts[t.code]) for t in items]}


@bp.get("/topics/<code>")
@requires(*READ_TOPICS)
def get_topic(code: str):
    session = db()
    return topics.topic_dict(_topic_or_404(code), topics.follower_counts(session, [code])[code])


@bp.delete("/topics/<code>")
@requires()
def delete_topic(code: str):
    """204; its followers stay subscribed to everything else; alerts keep the code."""
    _topic_or_404(code)
    followers = topics.delete_topic(db(), code)
    record("topic.delete", f"topic:{code}", {"followers": followers})
    return "", 204


def _topic_or_404(code: str):
    try:
        return topics.get_topic(db(), code)
    except NotFound:
        abort(404, f"no topic {code!r}")
