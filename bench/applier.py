"""The callback benchmark's applier: the Procfile's `python -m workers`, watched until the
callbacks it applies are all in the database."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from workers import callback_queue

ROOT = Path(__file__).resolve().parent.parent


def wait_applied(conn, timeout: float) -> float | None:
    """The monotonic time the applier emptied both callback lists; None after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callback_queue.pending(conn) == 0:
            return time.monotonic()
        time.sleep(0.01)
    return None


def start_worker(env: dict, workdir: Path, procs: list) -> subprocess.Popen:
    """`python -m workers`, as the Procfile's worker line (its applier applies the callbacks)."""
    with open(workdir / "worker.log", "a") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=handle, stderr=subprocess.STDOUT)
    procs.append(proc)
    return proc


def cpu_by_process(proc: subprocess.Popen) -> dict[str, float]:
    """CPU seconds so far of `proc` and each child, by the module it runs."""
    found: dict[str, float] = {}
    try:
        parent = psutil.Process(proc.pid)
        for p in [parent, *parent.children(recursive=True)]:
            times = p.cpu_times()
            name = next((a for a in p.cmdline() if a.startswith("workers")), "workers")
            found[name] = found.get(name, 0.0) + times.user + times.system
    except psutil.Error:
        pass
    return found
