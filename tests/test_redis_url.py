"""REDIS_URL with a password, a database index or TLS reaches every part that opens Redis."""
from __future__ import annotations

import dataclasses

import pytest
from redis.connection import SSLConnection

from admin_ui import create_app
from notifier.config import Settings
from tests.support.services import start_bundled_redis
from tests.workers.helpers import add_alert, add_residents, deliveries_of
from tests.workers.test_main import run_workers
from workers.queues import enqueue_fan_out, redis_connection

PASSWORD = "s3cret-redis-pw"


@pytest.fixture(scope="module")
def password_redis(tmp_path_factory) -> str:
    """URL (with its password, no database index) of a redis-server that requires one."""
    url, proc = start_bundled_redis(tmp_path_factory.mktemp("redis-auth"), password=PASSWORD)
    yield url
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def authed(env, password_redis) -> dict:
    """The test's environment on the password-protected Redis, database 3, flushed first."""
    url = f"{password_redis}/3"
    redis_connection(Settings.from_env({**env, "REDIS_URL": url})).flushdb()
    return {**env, "REDIS_URL": url}


def test_healthz_and_a_worker_fan_out_work_with_a_password(authed, db_url):
    settings = Settings.from_env(authed)
    add_residents(db_url, 2)
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    body = create_app(settings).test_client().get("/healthz").get_json()
    assert (body["redis"], body["queues"]["alerts"]) == ("ok", 1)
    done = run_workers(authed, "--burst")
    assert done.returncode == 0, done.stderr
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    assert redis_connection(settings).connection_pool.connection_kwargs["db"] == 3


def test_a_wrong_password_is_a_clear_503_and_a_clear_worker_error(authed):
    wrong = authed["REDIS_URL"].replace(PASSWORD, "not-the-password")
    settings = dataclasses.replace(Settings.from_env(authed), redis_url=wrong)
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert "AuthenticationError" in response.get_json()["redis"]
    done = run_workers({**authed, "REDIS_URL": wrong}, "--burst")
    assert done.returncode == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr and "not-the-password" not in done.stderr


def test_a_missing_password_is_a_clear_503(authed, password_redis):
    bare = authed["REDIS_URL"].replace(f":{PASSWORD}@", "")
    settings = dataclasses.replace(Settings.from_env(authed), redis_url=bare)
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert "Authentication" in response.get_json()["redis"]


def test_rediss_urls_connect_over_tls_with_the_options_given(env):
    url = "rediss://:pw@redis.example.org:6380/2?ssl_cert_reqs=none"
    conn = redis_connection(Settings.from_env({**env, "REDIS_URL": url}))
    pool = conn.connection_pool
    assert pool.connection_class is SSLConnection
    assert (pool.connection_kwargs["password"], pool.connection_kwargs["db"],
            pool.connection_kwargs["ssl_cert_reqs"]) == ("pw", 2, "none")


def test_ensure_redis_accepts_the_password_and_never_prints_a_wrong_one(authed):
    import os
    import subprocess
    import sys
    from pathlib import Path

    def ensure(url):
        return subprocess.run([sys.executable, "scripts/ensure_redis.py"],
                              cwd=Path(__file__).resolve().parents[1], capture_output=True,
                              text=True, timeout=30, env={**os.environ, "REDIS_URL": url})
    good = ensure(authed["REDIS_URL"])
    assert (good.returncode, good.stdout.strip()) == (0, authed["REDIS_URL"])
    bad = ensure(authed["REDIS_URL"].replace(PASSWORD, "not-the-password"))
    assert bad.returncode == 1
    assert "REDIS_URL=redis://:***@127.0.0.1" in bad.stderr and "not-the-password" not in bad.stderr


# --- redis+sentinel:// (notifier/redis_url.py; real Sentinels in tests/test_redis_sentinel.py) --
def test_a_sentinel_url_names_the_sentinels_the_master_its_database_and_passwords():
    from notifier.redis_url import SentinelTarget, sentinel_target

    url = ("redis+sentinel://app:m%40ster-pw@s1.example.org:26380,s2.example.org,[::1]:26381"
           "/queue-master/4?sentinel_password=s-pw")
    assert sentinel_target(url) == SentinelTarget(
        sentinels=(("s1.example.org", 26380), ("s2.example.org", 26379), ("::1", 26381)),
        master="queue-master", db=4, username="app", password="m@ster-pw",
        sentinel_password="s-pw")
    assert sentinel_target("redis+sentinel://10.0.0.5/mymaster").db == 0
    assert sentinel_target("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize("url, says", [
    ("redis+sentinel://10.0.0.5:26379", "needs the master's name"),
    ("redis+sentinel://10.0.0.5:26379/m/x", "database index must be a number"),
    ("redis+sentinel://10.0.0.5:abc/m", "Sentinel port must be a number"),
    ("redis+sentinel://a:26379,,b:26379/m", "at least one host:port"),
    ("sentinel://10.0.0.5/m", "must start with redis://"),
])
def test_a_malformed_redis_url_is_a_clear_config_error(env, url, says):
    from notifier.errors import ConfigError

    with pytest.raises(ConfigError, match=says) as caught:
        Settings.from_env({**env, "REDIS_URL": url})
    assert caught.value.variable == "REDIS_URL"


def test_a_sentinel_urls_passwords_never_reach_a_message():
    from notifier.redact import safe_url

    shown = safe_url("redis+sentinel://:pw1@h1:26379,h2:26379/m/0?sentinel_password=pw2")
    assert "pw1" not in shown and "pw2" not in shown and "h1:26379,h2:26379/m/0" in shown
