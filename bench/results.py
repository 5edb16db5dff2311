"""One figure per JSON line, so `bench/all.py` can gather every benchmark into one table.

Each benchmark takes `--results FILE` and, when given, calls `record()` once per figure it
prints. A figure is always stored beside the ceiling measured in the same run (the absolute
numbers on these machines drift 2–3× from day to day; the ratio is what compares).
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def record(path: str | os.PathLike | None, *, bench: str, figure: str, value: float, unit: str,
           database: str = "sqlite", ceiling: float | None = None,
           ceiling_label: str = "", target: str = "", met: bool | None = None,
           note: str = "") -> dict:
    """Append one figure to `path` (nothing when `path` is None) and return it.

    `ceiling` is the same work done the plainest way on the same machine in the same run
    (raw HTTP to the same stand-in, raw shapely on the same points, raw COPY); `met` says
    whether the issue's target holds, decided by the benchmark that knows the rule.
    """
    row = {"bench": bench, "figure": figure, "database": database, "value": value,
           "unit": unit, "ceiling": ceiling, "ceiling_label": ceiling_label,
           "target": target, "met": met, "note": note}
    if path is not None:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
    return row


def read(path: str | os.PathLike) -> list[dict]:
    """Every figure in `path`, in the order written; a missing file is no figures."""
    file = Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def machine() -> str:
    """A one-line description of where the figures were measured."""
    cores = os.cpu_count() or 0
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {cores} cores{memory}, Python {platform.python_version()}"
