"""Signed-in browser sessions kept server-side: a cookie counts only while its row exists."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from notifier.models import WebSession


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """Record a new session of `user_id` and return its id (for the cookie; stored as a hash).

    Expired rows are deleted here: a sign-in writes anyway, and the index on expires_at keeps
    it cheap, so no request that only reads ever has to.
    """
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(session_id), user_id=user_id, created_at=now,
                           expires_at=now + lifetime))
    session.flush()
    return session_id


def user_id_for(session: Session, session_id: object, now: datetime) -> int | None:
    """The user of a live session, or None (unknown, ended or expired). Only reads."""
    if not isinstance(session_id, str) or not session_id:
        return None
    return session.scalar(select(WebSession.user_id).where(
        WebSession.id_hash == _digest(session_id), WebSession.expires_at > now))


def end(session: Session, session_id: object) -> None:
    """End one session (sign-out); an unknown id is no error."""
    if isinstance(session_id, str) and session_id:
        session.execute(delete(WebSession).where(WebSession.id_hash == _digest(session_id)))


def end_all(session: Session, user_id: int) -> int:
    """End every session of a user (disabled, new password, two-factor reset); return how many."""
    return session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount
