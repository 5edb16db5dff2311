"""Helpers the benchmark scripts share: stopping what they started, on exit or on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable


def stop_all(procs: list[subprocess.Popen], grace: float = 10) -> None:
    """Stop every process we started, with the children in their sessions (work horses,
    gunicorn's workers): SIGTERM to each process group, SIGKILL after `grace` seconds."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait(5)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so a benchmark cleans up as it does on Ctrl-C."""
    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_cleanly(run: Callable[[Path, list], int], after: Callable[[], None] | None = None) -> int:
    """Call `run(workdir, procs)` in a fresh temporary folder; whatever happens (an error,
    Ctrl-C, SIGTERM), stop every process it appended to `procs`, then call `after`.

    Returns run's exit status, or 130 when interrupted.
    """
    procs: list[subprocess.Popen] = []
    stop_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        try:
            return run(Path(tmp), procs)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            return 130
        finally:
            stop_all(procs)
            if after is not None:
                after()


def tree_cpu_seconds(pids) -> float:
    """CPU seconds used so far by these processes and all their children (gone ones count 0)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            for proc in [parent, *parent.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total
