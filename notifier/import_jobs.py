"""Where the page's chunked CSV imports keep their rows between requests, and erasing a person from them.

A job is three files under `<instance>/imports/`: `<job>.rows` (one JSON row a line, null for a
blank line), `<job>.state` and `<job>.rejected` (the first report rows). The rows file holds
residents' numbers, emails and names, so it goes as soon as the job is finished, and an erasure
blanks the person's rows in any job still running (so the job cannot bring them back).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from notifier.phones import to_e164

KEEP_SECONDS = 2 * 24 * 3600  # finished or abandoned jobs are removed after two days


def jobs_dir(instance_path: Path) -> Path:
    path = Path(instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def files(instance_path: Path, job: str) -> tuple[Path, Path, Path]:
    """(rows, state, rejected) paths of `job`."""
    base = jobs_dir(instance_path) / job
    return base.with_suffix(".rows"), base.with_suffix(".state"), base.with_suffix(".rejected")


def sweep(instance_path: Path, now: float | None = None) -> None:
    """Remove the files of jobs untouched for KEEP_SECONDS."""
    cutoff = (time.time() if now is None else now) - KEEP_SECONDS
    for path in jobs_dir(instance_path).iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _is_person(row, phone: str | None, email: str | None, region: str) -> bool:
    if not isinstance(row, dict):
        return False
    if email and str(row.get("email", "")).strip().lower() == email:
        return True
    raw = row.get("phone")
    if phone and isinstance(raw, str) and raw.strip():
        try:
            return to_e164(raw, region) == phone
        except ValueError:
            return False
    return False


def _rewrite(path: Path, keep) -> None:
    """Rewrite `path` line by line through `keep(line) -> line`, replacing it atomically."""
    if not path.exists():
        return
    scratch = path.with_suffix(path.suffix + ".erasing")
    changed = False
    with path.open(encoding="utf-8") as source, scratch.open("w", encoding="utf-8") as out:
        for line in source:
            new = keep(line)
            changed |= new != line
            out.write(new)
    if changed:
        os.replace(scratch, path)
    else:
        scratch.unlink()


def erase_person(instance_path: Path, phone: str | None, email: str | None,
                 texts: tuple[str, ...], region: str) -> None:
    """Blank every row naming `phone` (E.164, however the file spelled it) or `email` in the
    jobs' row files, and every report line quoting one of `texts`."""
    directory = jobs_dir(instance_path)
    needles = tuple(t.lower() for t in texts if t)

    def row_line(line: str) -> str:
        try:
            row = json.loads(line)
        except ValueError:
            return line
        return "null\n" if _is_person(row, phone, email, region) else line

    def report_line(line: str) -> str:
        if not any(n in line.lower() for n in needles):
            return line
        try:
            number = json.loads(line).get("row")
        except (ValueError, AttributeError):
            number = None
        return json.dumps({"row": number, "errors": {"_row": ["erased"]}}) + "\n"

    for path in directory.glob("*.rows"):
        _rewrite(path, row_line)
    if needles:
        for path in directory.glob("*.rejected"):
            _rewrite(path, report_line)
