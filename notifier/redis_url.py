"""REDIS_URL in one place: redis://, rediss://, unix://, or a Sentinel-managed master.

`redis+sentinel://[[user]:password@]host:port[,host:port…]/<master>[/<db>][?options]` names
the Sentinels and the master's name; every client (RQ, stop hints, throttles, health) then asks
the Sentinels where the master is, and again after a failover, so losing the Redis host does not
stop alerting. The user and password are the master's; `sentinel_password` (and
`sentinel_username`) in the query are the Sentinels' own, when they require one. A port left
out is Sentinel's 26379; `ssl=1` talks TLS to the master and its replicas.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote

from notifier.errors import ConfigError

SENTINEL_SCHEME = "redis+sentinel"
PLAIN_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_PORT = 26379
_FLAGS = {"ssl": ("1", "true", "yes", "on")}


@dataclass(frozen=True)
class SentinelTarget:
    """Where the Sentinels are and which master of theirs to use."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    ssl: bool = False


def check(url: str) -> str:
    """`url` if it is a REDIS_URL we can use; ConfigError("REDIS_URL", …) saying why not."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == SENTINEL_SCHEME:
        sentinel_target(url)
    elif scheme not in PLAIN_SCHEMES:
        raise ConfigError("REDIS_URL", "must start with redis://, rediss://, unix:// or "
                                       f"{SENTINEL_SCHEME}://")
    return url


def sentinel_target(url: str) -> SentinelTarget | None:
    """The Sentinel target of a redis+sentinel:// URL; None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != SENTINEL_SCHEME:
        return None
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    credentials, _, hosts = netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    names = [unquote(p) for p in path.split("/") if p]
    if not names or len(names) > 2:
        raise ConfigError("REDIS_URL", f"{SENTINEL_SCHEME}:// needs the master's name after "
                                       "the hosts, e.g. …@host:26379/mymaster or …/mymaster/0")
    db = 0
    if len(names) == 2:
        if not names[1].isdigit():
            raise ConfigError("REDIS_URL", f"the database index must be a number, got "
                                           f"{names[1]!r}")
        db = int(names[1])
    options = dict(parse_qsl(query, keep_blank_values=True))
    return SentinelTarget(
        sentinels=tuple(_host_port(h) for h in hosts.split(",")), master=names[0], db=db,
        username=unquote(username) or None, password=unquote(password) or None,
        sentinel_username=options.get("sentinel_username") or None,
        sentinel_password=options.get("sentinel_password") or None,
        ssl=options.get("ssl", "").lower() in _FLAGS["ssl"])


def _host_port(text: str) -> tuple[str, int]:
    text = text.strip()
    if not text:
        raise ConfigError("REDIS_URL", f"{SENTINEL_SCHEME}:// needs at least one host:port "
                                       "of a Sentinel (and no empty ones between commas)")
    if text.startswith("["):  # [IPv6]:port
        host, _, port = text[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if port and not port.isdigit():
        raise ConfigError("REDIS_URL", f"the Sentinel port must be a number, got {port!r}")
    return host, int(port) if port else SENTINEL_PORT


def connect(url: str, **options):
    """A redis.Redis for `url`; for a Sentinel URL, the master's, found (and re-found after a
    failover) by the Sentinels. `options` (timeouts…) go to every connection it opens."""
    import redis

    target = sentinel_target(url)
    if target is None:
        return redis.Redis.from_url(url, **options)
    from redis.retry import Retry
    from redis.sentinel import Sentinel

    options.setdefault("connection_class", _failover_aware(target.ssl))
    return _master(Sentinel, Retry, target, options)


def connect_async(url: str, **options):
    """As `connect`, for asyncio (redis.asyncio)."""
    import redis.asyncio

    target = sentinel_target(url)
    if target is None:
        return redis.asyncio.from_url(url, **options)
    from redis.asyncio.retry import Retry
    from redis.asyncio.sentinel import Sentinel

    return _master(Sentinel, Retry, target, options)


# After a failover the first command on an old connection fails (the old master now refuses
# writes, or dropped its clients); retrying it asks the Sentinels for the new master.
FAILOVER_RETRIES = 6


@lru_cache(maxsize=2)
def _failover_aware(ssl: bool):
    """A Sentinel-managed connection that asks the Sentinels again whenever it reconnects.

    redis-py 8 reconnects the connection of a failed command (a retry) to its old address,
    not through the Sentinels: after a failover every retry met the old master, now a replica
    refusing writes, and RQ's enqueue pipelines failed until the connection went back to the pool.
    """
    from redis.sentinel import SentinelManagedConnection, SentinelManagedSSLConnection

    base = SentinelManagedSSLConnection if ssl else SentinelManagedConnection

    class FailoverAwareConnection(base):
        def connect_check_health(self, *args, **kwargs):
            if not self._sock and self.connection_pool.is_master:
                self.host, self.port = self.connection_pool.get_master_address()
            return super().connect_check_health(*args, **kwargs)

    return FailoverAwareConnection


def _master(sentinel_class, retry_class, target: SentinelTarget, options: dict):
    from redis.backoff import ExponentialBackoff

    options.setdefault("retry", retry_class(ExponentialBackoff(cap=2, base=0.1),
                                            FAILOVER_RETRIES))
    timeouts = {k: v for k, v in options.items()
                if k in ("socket_timeout", "socket_connect_timeout")}
    sentinel_kwargs = dict(timeouts, username=target.sentinel_username,
                           password=target.sentinel_password)
    sentinel = sentinel_class(list(target.sentinels), sentinel_kwargs=sentinel_kwargs)
    return sentinel.master_for(target.master, db=target.db, username=target.username,
                               password=target.password, ssl=target.ssl, **options)
