"""notifier.web_sessions: live, ended and expired browser sessions."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from notifier import accounts, web_sessions
from notifier.db import session_scope
from notifier.models import WebSession

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
SHIFT = timedelta(hours=12)


def _count(db_url) -> int:
    with session_scope(db_url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(WebSession))


def test_a_session_is_live_until_it_expires(db_url):
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "ana", "dispatcher", "correct horse", NOW)
        sid = web_sessions.start(session, user.id, NOW, SHIFT)
        user_id = user.id
    with session_scope(db_url, readonly=True) as session:
        assert web_sessions.user_id_for(session, sid, NOW + SHIFT - timedelta(seconds=1)) == user_id
        assert web_sessions.user_id_for(session, sid, NOW + SHIFT) is None
        assert web_sessions.user_id_for(session, sid + "x", NOW) is None
        assert web_sessions.user_id_for(session, None, NOW) is None
        assert web_sessions.user_id_for(session, 42, NOW) is None


def test_ending_a_session_leaves_the_others(db_url):
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "ana", "dispatcher", "correct horse", NOW)
        first = web_sessions.start(session, user.id, NOW, SHIFT)
        second = web_sessions.start(session, user.id, NOW, SHIFT)
        web_sessions.end(session, first)
        web_sessions.end(session, "never issued")
        assert web_sessions.user_id_for(session, first, NOW) is None
        assert web_sessions.user_id_for(session, second, NOW) == user.id


def test_a_sign_in_deletes_expired_sessions(db_url):
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "ana", "dispatcher", "correct horse", NOW)
        for _ in range(3):
            web_sessions.start(session, user.id, NOW, SHIFT)
    assert _count(db_url) == 3
    with session_scope(db_url) as session:
        web_sessions.start(session, user.id, NOW + SHIFT, SHIFT)
    assert _count(db_url) == 1


def test_disabling_a_user_or_changing_the_password_ends_all_sessions(db_url):
    with session_scope(db_url) as session:
        ana = accounts.create_user(session, "ana", "dispatcher", "correct horse", NOW)
        bob = accounts.create_user(session, "bob", "dispatcher", "correct horse", NOW)
        web_sessions.start(session, ana.id, NOW, SHIFT)
        kept = web_sessions.start(session, bob.id, NOW, SHIFT)
        accounts.set_active(session, ana.id, False)
        assert _count_in(session) == 1
        accounts.set_active(session, ana.id, True)
        web_sessions.start(session, ana.id, NOW, SHIFT)
        accounts.set_password(session, "ana", "another password")
        assert _count_in(session) == 1
        assert web_sessions.user_id_for(session, kept, NOW) == bob.id


def _count_in(session) -> int:
    return session.scalar(select(func.count()).select_from(WebSession))
