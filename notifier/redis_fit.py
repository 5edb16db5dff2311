"""Start-up refuses a Redis that may evict keys: a queued warning must never vanish silently.

Redis under memory pressure drops keys by its `maxmemory-policy`. Every policy but
`noeviction` may drop a queued job: the allkeys-* ones any key, the volatile-* ones keys with a
time to live, which RQ gives its jobs and registries. With `noeviction` a full Redis refuses
writes instead, and enqueueing fails loudly (the sweep queues the work again from SQL).

A managed Redis may forbid CONFIG; then INFO's `maxmemory_policy` is read. If neither answers,
start-up goes on with a warning: refusing every locked-down Redis would refuse good ones too.
"""
from __future__ import annotations

from notifier.errors import ConfigError
from notifier.redact import safe_url

SAFE_POLICY = "noeviction"


class RedisUnfit(ConfigError):
    """The Redis at REDIS_URL may evict keys; the message names its policy and the fix."""

    def __init__(self, url: str, policy: str):
        super().__init__("REDIS_URL", (
            f"the Redis at {safe_url(url)} may evict keys (maxmemory-policy {policy}), and a "
            f"queued alert could vanish with them; Tocsin needs maxmemory-policy {SAFE_POLICY}. "
            f"Fix: redis-cli CONFIG SET maxmemory-policy {SAFE_POLICY} (and CONFIG REWRITE), "
            f"or 'maxmemory-policy {SAFE_POLICY}' in redis.conf, or the parameter group of a "
            f"managed Redis"))
        self.policy = policy


def eviction_policy(conn) -> str | None:
    """The server's maxmemory-policy, by CONFIG GET or else INFO memory; None if unreadable."""
    import redis

    try:
        policy = conn.config_get("maxmemory-policy").get("maxmemory-policy")
        if policy:
            return _text(policy)
    except redis.ResponseError:  # CONFIG renamed or forbidden (NOPERM) on managed services
        pass
    try:
        policy = conn.info("memory").get("maxmemory_policy")
    except redis.ResponseError:
        return None
    return _text(policy) if policy else None


def check(conn, url: str) -> str | None:
    """Raise RedisUnfit when the server may evict keys; return a warning when its policy cannot
    be read; None when it is fit. Connection errors are the caller's to report."""
    policy = eviction_policy(conn)
    if policy is None:
        return (f"could not read the maxmemory-policy of the Redis at {safe_url(url)} (CONFIG "
                f"and INFO refused): make sure it is {SAFE_POLICY}, or queued alerts may be "
                f"evicted under memory pressure")
    if policy.lower() != SAFE_POLICY:
        raise RedisUnfit(url, policy)
    return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def refuse_unfit(url: str, warn) -> None:
    """The web app's start-up check: raise RedisUnfit for an evicting Redis; `warn(text)` when
    the policy is unreadable or Redis does not answer (then /healthz says 503 until it does)."""
    import redis

    from notifier.redis_url import connect

    conn = connect(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        warning = check(conn, url)
    except (redis.RedisError, OSError) as exc:
        warning = f"Redis at {safe_url(url)} did not answer at start-up ({exc}); its " \
                  f"maxmemory-policy is checked by the workers when they start"
    finally:
        conn.close()
    if warning:
        warn(warning)
