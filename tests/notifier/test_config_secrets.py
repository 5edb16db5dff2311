"""Secrets in the settings: long enough, kept owner-only on disk, never shown by repr."""
from __future__ import annotations

import stat

import pytest

from notifier.config import Settings
from notifier.env_values import MIN_SECRET_LENGTH
from notifier.db import get_engine
from notifier.errors import ConfigError

LONG = "x" * MIN_SECRET_LENGTH


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", ["SECRET_KEY", "AUDIT_KEY"])
def test_it_refuses_a_short_key_naming_the_variable(env, name):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "SECRET_KEY": LONG, name: "k"})
    assert caught.value.variable == name
    assert f"at least {MIN_SECRET_LENGTH} characters" in str(caught.value)


def test_it_refuses_a_short_key_read_from_its_file(env, tmp_path):
    (tmp_path / "key").write_text("short\n")
    env = {k: v for k, v in env.items() if k != "SECRET_KEY"}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "SECRET_KEY_FILE": str(tmp_path / "key")})
    assert caught.value.variable == "SECRET_KEY"


def test_the_generated_key_is_long_and_its_folder_and_file_are_the_owners_only(env, tmp_path):
    env = {k: v for k, v in env.items() if k != "SECRET_KEY"}
    instance = tmp_path / "fresh-instance"
    settings = Settings.from_env({**env, "TOCSIN_INSTANCE": str(instance)})
    assert len(settings.secret_key) >= MIN_SECRET_LENGTH
    assert Settings.from_env({**env, "TOCSIN_INSTANCE": str(instance)}).secret_key == settings.secret_key
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600


def test_the_sqlite_file_and_its_folder_are_the_owners_only(tmp_path):
    path = tmp_path / "new-instance" / "tocsin.db"
    engine = get_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_the_audit_key_is_derived_from_the_secret_key_unless_given(env):
    env = {k: v for k, v in env.items() if k != "AUDIT_KEY"}
    derived = Settings.from_env({**env, "SECRET_KEY": LONG})
    assert len(derived.audit_key) == 64 and LONG not in derived.audit_key
    assert Settings.from_env({**env, "SECRET_KEY": "y" * 40}).audit_key != derived.audit_key
    given = Settings.from_env({**env, "SECRET_KEY": LONG, "AUDIT_KEY": "a" * 40})
    assert given.audit_key == "a" * 40


def test_repr_and_str_show_no_secret(env):
    secrets = {
        "SECRET_KEY": "s3cret-key-" + "k" * 30, "AUDIT_KEY": "audit-key-" + "a" * 30,
        "TWILIO_AUTH_TOKEN": "twilio-auth-token-42", "SMTP_PASSWORD": "smtp-pass-word-42",
        "DATABASE_URL": "postgresql+psycopg://tocsin:db-pass-42@db.example.org/tocsin",
        "REDIS_URL": "rediss://:redis-pass-42@redis.example.org:6380/3?ssl_cert_reqs=required",
        "SOCIAL_URLS": "mastodons://social-token-42@social.example.org",
    }
    settings = Settings.from_env({**env, **secrets, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32})
    for shown in (repr(settings), str(settings), f"{settings}"):
        for needle in ("s3cret-key", "audit-key", "twilio-auth-token-42", "smtp-pass-word-42",
                       "db-pass-42", "redis-pass-42", "social-token-42", settings.audit_key):
            assert needle not in shown
        assert "redis.example.org:6380/3" in shown and "db.example.org" in shown
