"""Formula-safe CSV, streamed row by row so an export of a million deliveries stays small."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterable, Iterator, Sequence

from flask import Response
from sqlalchemy import Select

from notifier.db import session_scope
from notifier.masking import mask_address
from notifier.models import Delivery

def audit_download(database_url: str, actor: str, what: str, obj: str | None,
                   details: dict, now: datetime) -> None:
    """Record that `actor` downloaded `what` (deliveries, consents, opt_outs, audit): data
    about residents leaving the system is itself an event an auditor must see. Its own
    session: the request's one is read-only for a GET."""
    from notifier import audit

    with session_scope(database_url) as session:
        audit.record(session, actor, f"download.{what}", obj,
                     {k: v for k, v in details.items() if v not in (None, "")}, now)


CHUNK = 2000
# The delivery columns exported by the API and the alert page alike.
DELIVERY_COLUMNS = ("subscriber_id", "channel", "address", "language", "status", "provider_id",
                    "error_code", "attempts", "queued_at", "sent_at", "delivered_at",
                    "acknowledged_at")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Return `value` as CSV cell text; text that a spreadsheet would evaluate gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def iter_csv(header: Sequence[str], rows: Iterable[Sequence], flush_every: int = 500) -> Iterator[str]:
    """Yield CSV text for `header` and `rows` in chunks of about `flush_every` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        pending += 1
        if pending >= flush_every:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def deliveries_csv(database_url: str, query: Select, filename: str,
                   masked: bool = False) -> Response:
    """Stream the deliveries `query` selects as a CSV download, read in keyset-paged chunks;
    `masked` (auditors) masks the addresses.

    Each chunk has a session of its own: the request's session is closed before the
    stream ends, and no transaction is held open across a slow download.
    """
    columns = [Delivery.id] + [getattr(Delivery, name) for name in DELIVERY_COLUMNS]

    def rows():
        last_id = 0
        while True:
            with session_scope(database_url, readonly=True) as session:
                chunk = session.execute(query.with_only_columns(*columns)
                                        .where(Delivery.id > last_id)
                                        .order_by(Delivery.id).limit(CHUNK)).all()
            if not chunk:
                return
            if masked:
                address = 1 + DELIVERY_COLUMNS.index("address")
                chunk = [(*r[:address], mask_address(r[address]), *r[address + 1:]) for r in chunk]
            yield from chunk
            last_id = chunk[-1][0]

    return Response(iter_csv(("delivery_id",) + DELIVERY_COLUMNS, rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
