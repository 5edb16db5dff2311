"""Bulk subscriber import (CSV or a JSON list): validated in Python, looked up in chunks, bulk-written.

A bad row never stops good rows; a row whose phone or email is already known updates that
subscriber (also one created earlier in the same file). No per-row queries: ≥10,000 rows/s.
A file is read as a stream and imported CHUNK rows at a time, and the answer lists at most
MAX_REJECTED rows (plus the total): a few MB of bad rows must not make a 70 MB answer.
"""
from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from typing import Iterable, Iterator

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from notifier import erasure, subscriber_writes
from notifier.errors import InvalidInput
from notifier.i18n import N_
from notifier.schemas import clean_subscriber
from notifier.subscriptions import NEEDS_ADDRESS, settle_channels

COLUMNS = ("name", "phone", "email", "language", "channels", "lat", "lon", "zones")
EXTRA = "_extra"  # where parse_csv puts cells beyond the header, for the row to be rejected
_SCALARS = ("name", "phone", "email", "language", "channels")
_LINKS = ("locations", "zones", "groups")
CHUNK = 2000  # rows per lookup-and-write round: a fraction of a second
MAX_REJECTED = 1000  # rejected rows listed in an answer; `rejected_total` counts them all
MAX_FIELD = 10_000  # characters in one field (a name, an email…): more is not a subscriber
MAX_CELLS = 64  # cells in one row; the header has at most eight columns


def _too_long(row: int, field: str | None, size: int) -> InvalidInput:
    what = f"the {field} field has {size:,}" if field else f"a field has over {size:,}"
    return InvalidInput({"csv": [f"Row {row}: {what} characters; the limit is {MAX_FIELD:,}. "
                                 "Nothing was imported."]})


def parse_csv(text: str) -> list[dict | None]:
    """Return one subscriber object per data row (None for a blank line, to keep numbering).

    See iter_csv; this reads a whole text at once (the command line's file).
    """
    rows = list(iter_csv(io.StringIO(text.lstrip("\ufeff"), newline="")))
    while rows and rows[-1] is None:
        rows.pop()
    return rows


def iter_csv(stream: Iterable[str]) -> Iterator[dict | None]:
    """Read the header now, then yield one subscriber object per data row (None: a blank line).

    Columns: name,phone,email,language,channels,lat,lon,zones in any order, any case;
    `channels` and `zones` are `;`-separated; lat+lon become one location labelled "home";
    empty cells are left out (an import never blanks a field). A leading BOM is ignored.
    Raises InvalidInput({"csv": [...]}) when the header is unusable, and while rows are read
    when a field is over MAX_FIELD characters, a row has over MAX_CELLS cells, the CSV is
    malformed or the text is not UTF-8.
    """
    reader = csv.reader(stream)
    return _rows(reader, _header(reader))


def scan_csv(stream: Iterable[str]) -> int:
    """Check `stream` as iter_csv reads it, without building rows; return how many data rows
    parse_csv would give (trailing blank lines aside). Raises iter_csv's InvalidInput, so a
    file read in several transactions can be refused before the first one commits."""
    _, records = iter_records(stream)
    last = 0
    for number, record in enumerate(records, 1):
        if record is not None:
            last = number
    return last


def _header(reader) -> list[str]:
    header = _next_record(reader, 0)
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if not header or not any(h.strip() for h in header):
        raise InvalidInput({"csv": ["The file is empty: the first line must name the columns."]})
    names = [h.strip().lower() for h in header]
    if len(names) > MAX_CELLS:
        raise InvalidInput({"csv": [f"The header has {len(names):,} columns; expected "
                                    f"{', '.join(COLUMNS)}."]})
    problems = [f"Unknown column {h[:40]!r}; expected {', '.join(COLUMNS)}."
                for h in names if h not in COLUMNS]
    problems += [f"Column {h!r} appears twice." for h in sorted({h for h in names if names.count(h) > 1})]
    if "phone" not in names and "email" not in names:
        problems.append("A phone or an email column is required.")
    if problems:
        raise InvalidInput({"csv": problems})
    return names


def _check_record(record: list[str], number: int, names: list[str]) -> None:
    if len(record) > MAX_CELLS:
        raise InvalidInput({"csv": [f"Row {number} has {len(record):,} cells; the header has "
                                    f"{len(names)}. Nothing was imported."]})
    if record and max(map(len, record)) > MAX_FIELD:
        for index, cell in enumerate(record):
            if len(cell) > MAX_FIELD:
                field = repr(names[index]) if index < len(names) else f"column {index + 1}"
                raise _too_long(number, field, len(cell))


def _next_record(reader, number: int) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:  # e.g. "field larger than field limit": a field far too long
        if "field limit" in str(exc):
            raise _too_long(number, None, csv.field_size_limit()) from None
        raise InvalidInput({"csv": [f"Row {number}: {exc}."]}) from None
    except UnicodeDecodeError:
        raise InvalidInput({"csv": [N_("The CSV file must be UTF-8 text.")]}) from None


def _rows(reader, names: list[str]) -> Iterator[dict | None]:
    return (None if record is None else row_of(record, names) for record in _records(reader, names))


def iter_records(stream: Iterable[str]) -> tuple[list[str], Iterator[list[str] | None]]:
    """(the checked header, its checked records): iter_csv before each record becomes a dict
    (row_of), so a process pool can do that part too; None for a blank line. Same refusals."""
    reader = csv.reader(stream)
    names = _header(reader)
    return names, _records(reader, names)


def _records(reader, names: list[str]) -> Iterator[list[str] | None]:
    for number in itertools.count(1):
        record = _next_record(reader, number)
        if record is None:
            return
        _check_record(record, number, names)
        yield record if "".join(record).strip() else None


def row_of(record: list[str], names: list[str]) -> dict:
    """The subscriber object of one non-blank CSV record under the header `names`."""
    row: dict = {}
    for name, cell in zip(names, record):
        cell = cell.strip()
        if not cell:
            continue
        if name in ("channels", "zones"):
            items = [p.strip() for p in cell.split(";") if p.strip()]
            row[name] = [p.lower() for p in items] if name == "channels" else items
        elif name in ("lat", "lon"):
            row.setdefault("locations", [{"label": "home"}])[0][name] = cell
        else:
            row[name] = cell
    if any(cell.strip() for cell in record[len(names):]):
        row[EXTRA] = True
    return row


def check_sizes(rows: list, first: int) -> None:
    """Raise the 422 of a field over MAX_FIELD characters among JSON `rows` (numbered from `first`)."""
    for number, row in enumerate(rows, first):
        if not isinstance(row, dict):
            continue
        for field, value in row.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str) and len(item) > MAX_FIELD:
                    raise _too_long(number, repr(field), len(item))


def import_all(session: Session, rows: Iterable, settings, now: datetime,
               chunk: int = CHUNK) -> dict:
    """Import `rows` (iter_csv's stream or a JSON list) CHUNK rows at a time, in the caller's
    transaction; only a chunk's rows and the first MAX_REJECTED rejections are held.

    Returns {"created", "updated", "rejected": [first MAX_REJECTED, by row], "rejected_total"}.
    """
    totals = {"created": 0, "updated": 0, "rejected": [], "rejected_total": 0}
    done = 0
    iterator = iter(rows)
    while True:
        part = list(itertools.islice(iterator, chunk))
        if not part:
            return totals
        check_sizes(part, done + 1)
        result = import_subscribers(session, part, settings, now)
        add_chunk(totals, result, done)
        done += len(part)


def add_chunk(totals: dict, result: dict, offset: int, keep: int = MAX_REJECTED) -> None:
    """Add one chunk's `result` (rows numbered from 1 in the chunk) to `totals`, listing at most
    `keep` rejected rows in all."""
    totals["created"] += result["created"]
    totals["updated"] += result["updated"]
    totals["rejected_total"] += len(result["rejected"])
    room = keep - len(totals["rejected"])
    if room > 0:
        for item in sorted(result["rejected"], key=lambda r: r["row"])[:room]:
            totals["rejected"].append({**item, "row": item["row"] + offset})


def validate_rows(rows: list, region: str, language: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Check each row alone (no database): ([(row number, clean data)], [rejections]).

    Needs only the two settings it names, so a process pool can run it (notifier.import_file).
    """
    valid, rejected = [], []
    for number, row in enumerate(rows, 1):
        if row is None:
            continue
        extra = isinstance(row, dict) and row.pop(EXTRA, False)
        try:
            data = clean_subscriber(row, region, language, partial=True)
        except ValidationError as exc:
            errors = exc.messages
        else:  # the phone or email is also what finds an existing subscriber
            errors = {} if data.get("phone") or data.get("email") else {
                "phone": [NEEDS_ADDRESS], "email": [NEEDS_ADDRESS]}
        if extra:
            errors = {**errors, "_row": ["More cells than the header has columns."]}
        if errors:
            rejected.append({"row": number, "errors": errors})
        else:
            valid.append((number, data))
    return valid, rejected


def validate_records(records: list, names: list[str], region: str,
                     language: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """validate_rows of iter_records' records (None: a blank line) under the header `names`."""
    return validate_rows([None if r is None else row_of(r, names) for r in records],
                         region, language)


def _existing(session: Session, valid: list[tuple[int, dict]]) -> dict[int, dict]:
    """Subscribers already holding a phone or email the file names, as plain dicts by id."""
    return subscriber_writes.existing(session, {d["phone"] for _, d in valid if d.get("phone")},
                                      {d["email"] for _, d in valid if d.get("email")})


def import_subscribers(session: Session, rows: list, settings, now: datetime) -> dict:
    """Import subscriber objects (from parse_csv or a JSON list) in the caller's transaction.

    Returns {"created": n, "updated": n, "rejected": [{"row": i, "errors": {...}}]} where i
    counts data rows from 1 and created + updated + rejected = rows given (blank lines aside).
    """
    valid, rejected = validate_rows(rows, settings.default_region, settings.default_language)
    return apply_valid(session, valid, rejected, settings, now)


def apply_valid(session: Session, valid: list[tuple[int, dict]], rejected: list[dict],
                settings, now: datetime) -> dict:
    """Create or update the rows validate_rows let through, adding to its `rejected` the rows
    that clash with stored subscribers; returns import_subscribers' answer."""
    records = _existing(session, valid)  # key: existing id, or a negative number for new ones
    by_phone = {r["phone"]: key for key, r in records.items() if r["phone"]}
    by_email = {r["email"]: key for key, r in records.items() if r["email"]}
    touched: dict[int, set] = {}  # key → which fields the file set
    created = updated = 0
    for number, data in valid:
        phone, email = data.get("phone"), data.get("email")
        key_p, key_e = by_phone.get(phone) if phone else None, by_email.get(email) if email else None
        if key_p is not None and key_e is not None and key_p != key_e:
            rejected.append({"row": number, "errors": {"email": [
                "This email belongs to another subscriber than this phone number."]}})
            continue
        key = key_p if key_p is not None else key_e
        current = records.get(key)
        new_phone = data["phone"] if "phone" in data else (current or {}).get("phone")
        new_email = data["email"] if "email" in data else (current or {}).get("email")
        try:
            if current is None or "channels" in data:
                channels = settle_channels(data.get("channels"), new_phone, new_email)
            else:
                channels = settle_channels(None, new_phone, new_email, current["channels"],
                                           bool(current["phone"]), bool(current["email"]))
        except InvalidInput as exc:
            rejected.append({"row": number, "errors": exc.errors})
            continue
        if current is None:
            key = -(len(records) + 1)
            current = records[key] = {"id": None, "name": None, "phone": None, "email": None,
                                      "language": settings.default_language}
            created += 1
        else:
            updated += 1
        for address, index in (("phone", by_phone), ("email", by_email)):
            if current[address] and index.get(current[address]) == key:
                del index[current[address]]
        current.update({k: data[k] for k in _SCALARS if k in data and k != "language"})
        if data.get("language"):
            current["language"] = data["language"]
        current.update(phone=new_phone, email=new_email, channels=channels)
        current.update({k: data[k] or [] for k in _LINKS if k in data})
        if new_phone:
            by_phone[new_phone] = key
        if new_email:
            by_email[new_email] = key
        touched.setdefault(key, set()).update(data)
    subscriber_writes.write(session, records, touched, now)
    erasure.restore_opt_outs(session, settings, (records[k][a] for k in touched
                                                 for a in ("phone", "email")))
    return {"created": created, "updated": updated, "rejected": rejected}
