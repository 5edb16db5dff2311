"""notifier.accounts: argon2 passwords and SHA-256-stored API tokens."""
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.errors import Conflict, InvalidInput, NotFound
from notifier.models import ApiToken, User

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)


def test_it_checks_a_password_and_refuses_a_wrong_one(db_url):
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "ana", "dispatcher", "correct horse", NOW)
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "ana", "correct horse").role == "dispatcher"
        assert accounts.check_password(session, "ana", "wrong horse") is None
        assert accounts.check_password(session, "nobody", "correct horse") is None


def test_an_inactive_user_cannot_sign_in(db_url):
    with session_scope(db_url) as session:
        accounts.create_user(session, "ana", "admin", "correct horse", NOW).active = False
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "ana", "correct horse") is None


def test_it_rehashes_when_the_parameters_change(db_url):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with session_scope(db_url) as session:
        session.add(User(name="old", role="auditor", password_hash=weak.hash("old password"),
                         active=True, created_at=NOW))
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "old", "old password") is not None
    with session_scope(db_url) as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "old"))
        assert stored.startswith("$argon2id$") and "m=8," not in stored
        assert accounts.check_password(session, "old", "old password") is not None


def test_set_password_replaces_the_old_one(db_url):
    with session_scope(db_url) as session:
        accounts.create_user(session, "ana", "admin", "first password", NOW)
    with session_scope(db_url) as session:
        accounts.set_password(session, "ana", "second password")
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "ana", "first password") is None
        assert accounts.check_password(session, "ana", "second password") is not None
        with pytest.raises(NotFound):
            accounts.set_password(session, "nobody", "whatever123")


@pytest.mark.parametrize("name, role, password, field", [
    ("", "admin", "long enough", "name"),
    ("   ", "admin", "long enough", "name"),
    ("ana", "root", "long enough", "role"),
    ("ana", "admin", "short", "password"),
])
def test_bad_users_are_invalid_input(db_url, name, role, password, field):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput) as caught:
            accounts.create_user(session, name, role, password, NOW)
    assert field in caught.value.errors


def test_a_second_user_with_the_same_name_is_a_conflict(db_url):
    with session_scope(db_url) as session:
        accounts.create_user(session, "ana", "admin", "long enough", NOW)
        with pytest.raises(Conflict):
            accounts.create_user(session, "ana", "auditor", "long enough", NOW)


def test_a_token_is_stored_only_as_its_sha256(db_url):
    with session_scope(db_url) as session:
        plaintext = accounts.create_token(session, "cad", "dispatcher", NOW)
    assert len(plaintext) > 30 and " " not in plaintext
    with session_scope(db_url) as session:
        stored = session.scalar(select(ApiToken))
        assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert plaintext not in (stored.token_hash, stored.name)
        assert accounts.token_for(session, plaintext, NOW).role == "dispatcher"
        assert accounts.token_for(session, plaintext + "x", NOW) is None
        assert accounts.token_for(session, "", NOW) is None


def test_tokens_are_random(db_url):
    with session_scope(db_url) as session:
        tokens = {accounts.create_token(session, "cad", "admin", NOW) for _ in range(5)}
    assert len(tokens) == 5


def test_last_used_is_written_at_most_once_a_minute(db_url):
    with session_scope(db_url) as session:
        plaintext = accounts.create_token(session, "cad", "auditor", NOW)
    for offset, expected in ((0, 0), (30, 0), (59, 0), (60, 60), (90, 60), (125, 125)):
        at = NOW + timedelta(seconds=offset)
        # token_for only reads (a GET's session is read-only); the use is recorded apart.
        with session_scope(db_url, readonly=True) as session:
            token = accounts.token_for(session, plaintext, at)
        with session_scope(db_url) as session:
            accounts.record_token_use(session, token.id, at)
        with session_scope(db_url, readonly=True) as session:
            token = accounts.token_for(session, plaintext, at)
            assert token.last_used_at == NOW + timedelta(seconds=expected)
            assert accounts.token_use_due(token, at + timedelta(seconds=60))


def test_looking_a_token_up_writes_nothing(db_url):
    with session_scope(db_url) as session:
        plaintext = accounts.create_token(session, "cad", "auditor", NOW)
        assert accounts.token_for(session, plaintext, NOW).last_used_at is None
        assert not session.dirty
    with session_scope(db_url, readonly=True) as session:
        assert accounts.token_for(session, plaintext, NOW).last_used_at is None


def test_a_revoked_token_lets_nobody_in(db_url):
    with session_scope(db_url) as session:
        plaintext = accounts.create_token(session, "cad", "admin", NOW)
        token_id = accounts.token_for(session, plaintext, NOW).id
    with session_scope(db_url) as session:
        assert accounts.revoke_token(session, token_id, NOW) is True
        assert accounts.revoke_token(session, token_id, NOW) is False
        with pytest.raises(NotFound):
            accounts.revoke_token(session, token_id + 1, NOW)
    with session_scope(db_url) as session:
        assert accounts.token_for(session, plaintext, NOW) is None


@pytest.mark.parametrize("name, role", [("", "admin"), ("cad", "superuser")])
def test_bad_tokens_are_invalid_input(db_url, name, role):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput):
            accounts.create_token(session, name, role, NOW)


def test_users_are_listed_by_name_and_can_be_disabled_and_enabled(db_url):
    with session_scope(db_url) as session:
        accounts.create_user(session, "zoe", "auditor", "correct horse", NOW)
        ana = accounts.create_user(session, "ana", "admin", "correct horse", NOW)
        assert [u.name for u in accounts.list_users(session)] == ["ana", "zoe"]
        assert accounts.set_active(session, ana.id, False).active is False
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "ana", "correct horse") is None
        accounts.set_active(session, ana.id, True)
        assert accounts.check_password(session, "ana", "correct horse") is not None
        with pytest.raises(NotFound):
            accounts.set_active(session, 999, False)


def test_issue_token_returns_the_row_and_live_tokens_are_listed_first(db_url):
    with session_scope(db_url) as session:
        old, _ = accounts.issue_token(session, "old", "auditor", NOW)
        new, plaintext = accounts.issue_token(session, "new", "dispatcher", NOW)
        assert accounts.token_for(session, plaintext, NOW).id == new.id
        accounts.revoke_token(session, new.id, NOW)
        assert [t.name for t in accounts.list_tokens(session)] == ["old", "new"]


def test_a_second_factor_is_required_for_senders_and_admins_unless_sandbox_is_set(env):
    settings = Settings.from_env(env)  # no credentials at all: every channel records
    assert accounts.totp_required("admin", settings)
    assert accounts.totp_required("dispatcher", settings)
    assert not accounts.totp_required("auditor", settings)
    sandbox = Settings.from_env({**env, "SANDBOX": "1"})
    assert not accounts.totp_required("dispatcher", sandbox)
    assert not accounts.totp_required("admin", sandbox)


def test_an_unconfigured_channel_never_switches_the_second_factor_off(env):
    # Real Twilio and SMTP, SOCIAL_URLS empty: `social` records, which once meant "sandbox".
    live = Settings.from_env({**env, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                              "TWILIO_AUTH_TOKEN": "0" * 32, "TWILIO_FROM_NUMBER": "+15005550006",
                              "SMTP_HOST": "smtp.example.org", "MAIL_FROM": "alerts@example.org"})
    assert live.is_sandboxed("social") and not live.is_sandboxed("sms")
    assert accounts.totp_required("admin", live) and accounts.totp_required("dispatcher", live)
    assert Settings.from_env({**env, "SANDBOX": "0"}).sandbox_explicit is False
