"""Start-up refuses a Redis that may evict keys (issue 10): the web app, the worker, make run."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from admin_ui import create_app
from notifier.config import Settings
from notifier.redis_fit import RedisUnfit
from tests.support.services import start_bundled_redis
from tests.workers.test_main import run_workers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def evicting_redis(tmp_path_factory) -> str:
    """URL of a redis-server started with --maxmemory-policy allkeys-lru."""
    url, proc = start_bundled_redis(tmp_path_factory.mktemp("redis-lru"),
                                    args=["--maxmemory-policy", "allkeys-lru"])
    yield url + "/0"
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def policy(evicting_redis):
    """policy(name) → the evicting server's URL, its policy set to `name` (allkeys-lru after)."""
    conn = redis.Redis.from_url(evicting_redis)

    def set_policy(name: str) -> str:
        conn.config_set("maxmemory-policy", name)
        return evicting_redis
    yield set_policy
    conn.config_set("maxmemory-policy", "allkeys-lru")
    conn.close()


@pytest.mark.parametrize("name", ["allkeys-lru", "volatile-ttl", "allkeys-random"])
def test_a_worker_refuses_a_redis_that_may_evict_keys_and_says_how_to_fix_it(env, policy, name):
    done = run_workers({**env, "REDIS_URL": policy(name)}, "--burst")
    assert done.returncode == 2
    assert f"maxmemory-policy {name}" in done.stderr
    assert "CONFIG SET maxmemory-policy noeviction" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_web_app_refuses_to_start_on_a_redis_that_may_evict_keys(settings, policy):
    evicting = dataclasses.replace(settings, redis_url=policy("volatile-lru"))
    with pytest.raises(RedisUnfit, match="maxmemory-policy volatile-lru"):
        create_app(evicting)


def test_gunicorn_refuses_to_boot_the_app_on_an_evicting_redis(env, policy):
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
         "admin_ui:create_app()"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, **env, "REDIS_URL": policy("allkeys-lru")})
    assert done.returncode != 0
    assert "maxmemory-policy allkeys-lru" in done.stderr


def test_with_config_forbidden_the_policy_is_read_from_info(env, tmp_path):
    url, proc = start_bundled_redis(tmp_path, args=["--maxmemory-policy", "allkeys-lfu",
                                                    "--rename-command", "CONFIG", ""])
    try:
        done = run_workers({**env, "REDIS_URL": url}, "--burst")
    finally:
        proc.terminate()
        proc.wait(5)
    assert done.returncode == 2
    assert "maxmemory-policy allkeys-lfu" in done.stderr


def test_a_policy_nobody_may_read_is_a_warning_not_a_refusal(env, tmp_path, settings):
    url, proc = start_bundled_redis(tmp_path)
    try:
        admin = redis.Redis.from_url(url)
        admin.execute_command("ACL", "SETUSER", "tocsin", "on", ">tocsin-pw", "~*", "&*",
                              "+@all", "-config", "-info")
        limited = url.replace("redis://", "redis://tocsin:tocsin-pw@") + "/0"
        done = run_workers({**env, "REDIS_URL": limited}, "--burst")
        app = create_app(dataclasses.replace(settings, redis_url=limited))
    finally:
        proc.terminate()
        proc.wait(5)
    assert done.returncode == 0, done.stderr
    assert "warning: could not read the maxmemory-policy" in done.stderr
    assert app is not None


def test_ensure_redis_refuses_a_configured_redis_that_may_evict_keys(policy):
    done = subprocess.run([sys.executable, "scripts/ensure_redis.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30,
                          env={**os.environ, "REDIS_URL": policy("allkeys-lru")})
    assert done.returncode == 1
    assert "maxmemory-policy allkeys-lru" in done.stderr and done.stdout == ""


def test_the_bundled_redis_of_make_run_never_evicts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    # 6379 may well answer on a developer's machine: the bundled one is asked for directly.
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'scripts'); import ensure_redis; "
         f"print(ensure_redis.start_bundled(__import__('pathlib').Path({str(tmp_path)!r})))"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1]
    conn = redis.Redis.from_url(url)
    try:
        assert conn.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        conn.shutdown(nosave=True)


def test_settings_refuse_a_redis_url_of_another_kind(env):
    from notifier.errors import ConfigError

    with pytest.raises(ConfigError, match="REDIS_URL: must start with redis://"):
        Settings.from_env({**env, "REDIS_URL": "http://127.0.0.1:6379"})
