"""A subscriber CSV file imported as a stream: one transaction per BATCH rows, the first rejections kept.

`python -m notifier import-subscribers FILE` runs this. The file is never held in memory: it is
read once to check it (UTF-8, CSV structure, field sizes: the refusals that say "nothing was
imported" are made before anything is), then again BATCH rows at a time, each batch validated
(in a pool of processes: the phone-number rules are most of the cost) and written in file
order, each in its own transaction (notifier.subscriber_import), so a million rows hold no lock
for long and need a few MB. When a batch fails (the database went away, a constraint another
writer broke), the batches before it stay committed and ImportStopped says which rows did not
go in; importing the same file again updates the rows already imported instead of duplicating.
"""
from __future__ import annotations

import codecs
import itertools
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from notifier.db import session_scope
from notifier.subscriber_import import (add_chunk, apply_valid, iter_records, scan_csv,
                                        validate_records)

BATCH = 5000  # rows per transaction: ~0.3 s of work, few enough to show progress
KEEP = 1000  # rejected rows kept for the report; `rejected_total` counts them all


class NotUtf8(ValueError):
    """The file is not UTF-8 text (nothing was imported)."""


class ImportStopped(Exception):
    """A batch failed: rows before `first_row` are committed, `first_row` onwards are not."""

    def __init__(self, first_row: int, last_row: int, totals: dict, cause: BaseException):
        super().__init__(f"rows {first_row}-{last_row}: {cause}")
        self.first_row, self.last_row, self.totals, self.cause = first_row, last_row, totals, cause


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def check_utf8(path: Path) -> None:
    """Raise NotUtf8 unless the whole file decodes (a BOM is allowed); ~50 ms for 50 MB."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with open(path, "rb") as raw:
        try:
            for block in iter(lambda: raw.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise NotUtf8(f"{path}: not UTF-8 text (byte {exc.start:,} of a block)") from None


def count_rows(path: Path) -> int:
    """Check the file's CSV (see subscriber_import.scan_csv) and return its data row count."""
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return scan_csv(stream)


def import_csv_file(path: Path, settings, batch: int = BATCH, keep: int = KEEP,
                    progress: Callable[[int, int], object] | None = None,
                    now: Callable[[], datetime] = _utcnow, workers: int | None = None) -> dict:
    """Import the CSV at `path` (checked first: see check_utf8 and count_rows), `batch` rows
    per transaction; `progress(n, total_rows)` after each committed batch.

    Rows are validated by `workers` processes (default: one per CPU; 0: in this process) while
    this one reads the file and writes the batches before, in file order: the phone-number
    rules cost more than everything else together.
    Returns {"rows", "created", "updated", "rejected": [the first `keep`, by row],
    "rejected_total"}; rows are numbered over the whole file. Raises NotUtf8, InvalidInput
    (from the check: nothing imported), OSError, or ImportStopped when a batch failed.
    """
    check_utf8(path)
    totals = {"rows": count_rows(path), "created": 0, "updated": 0, "rejected": [],
              "rejected_total": 0}
    if workers is None:
        workers = os.cpu_count() or 1
    if totals["rows"] <= batch:  # one batch: starting processes would cost more than it saves
        workers = 0
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) \
        if workers else None
    pending: deque = deque()  # (first row's offset, row count, validation) in file order
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            names, rows = iter_records(stream)
            read = 0
            while read < totals["rows"] or pending:
                if read < totals["rows"] and len(pending) <= workers:
                    part = list(itertools.islice(rows, min(batch, totals["rows"] - read)))
                    if not part:  # the file shrank since it was checked: import what is there
                        totals["rows"] = read
                        continue
                    args = (part, names, settings.default_region, settings.default_language)
                    pending.append((read, len(part), pool.submit(validate_records, *args)
                                    if pool else _Done(validate_records(*args))))
                    read += len(part)
                    continue
                offset, size, checked = pending.popleft()
                try:
                    valid, rejected = checked.result()
                    with session_scope(settings.database_url) as session:
                        result = apply_valid(session, valid, rejected, settings, now())
                except Exception as exc:
                    raise ImportStopped(offset + 1, offset + size, totals, exc) from exc
                add_chunk(totals, result, offset, keep)
                if progress is not None:
                    progress(size, totals["rows"])
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return totals


class _Done:
    """A finished result shaped like a Future, for validation run in this process."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
