"""A process beside each worker doing one thing every few seconds (the healing sweep, the CAP
poller), ending by itself once the worker is gone.

A process of its own, never a thread of the worker: RQ forks a work-horse per job, and a fork
would copy the side process's open database connections (and their locks) into the horse.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Callable

from notifier.config import Settings
from notifier.masking import mask_handlers

log = logging.getLogger("workers.side_process")


def start(module: str) -> subprocess.Popen:
    """Start `python -m <module> --parent <this pid>`, a child that ends with this process."""
    return subprocess.Popen([sys.executable, "-m", module, "--parent", str(os.getpid())])


def repeat(step: Callable[[datetime], object], every: float, parent: int, what: str) -> None:
    """Run step(now) every `every` seconds while process `parent` lives; an outage (database,
    Redis) is logged and tried again next round."""
    while os.getppid() == parent:
        try:
            step(datetime.now(timezone.utc))
        except Exception:  # a database or Redis outage, a bug: logged whole, tried next round
            log.exception("%s failed; trying again in %g s", what, every)
        time.sleep(every)


def main(prog: str, description: str, run: Callable[[Settings, int], None],
         argv: list[str] | None = None) -> int:
    """The command line of a side process: `--parent PID`, masked logs, a quiet SIGTERM."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--parent", type=int, default=os.getppid(),
                        help="stop once this process (the worker) is gone")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    mask_handlers()
    try:
        run(Settings.from_env(), args.parent)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole terminal's process group
        pass
    return 0
