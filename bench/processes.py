"""Helpers the benchmark scripts share: stopping what they started, on exit or on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import time


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
