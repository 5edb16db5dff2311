"""CSV import of subscribers from the page: an upload, then chunks with a progress bar and a per-row report.

The file is parsed once on upload, as a stream, and kept as a job under the instance folder
(notifier.import_jobs); the page then asks for one chunk at a time (`chunk.json`), so tens of
thousands of rows never hold one request or one transaction for long, and the progress bar moves
as each chunk is committed. Without JavaScript the upload runs every chunk at once and shows the
same report. The report keeps the first REPORT_ROWS rejected rows; the counts cover them all.
"""
from __future__ import annotations

import io
import itertools
import json
import secrets

from flask import abort, redirect, render_template, request, url_for

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required
from admin_ui.pages.i18n import gettext as _
from admin_ui.pages.subscribers import WRITERS, actor, bp
from notifier import audit, import_jobs, subscriber_import, subscriptions
from notifier.errors import InvalidInput

CHUNK = subscriber_import.CHUNK  # rows per request: a fraction of a second at ≥10,000 rows/s
REPORT_ROWS = subscriber_import.MAX_REJECTED  # rejected rows kept for the report


def _files(job: str):
    return import_jobs.files(get_settings().instance_path, job)


def start_job(rows, filename: str) -> dict:
    """Store parsed rows as they are read (one JSON line each, blank lines as null) and a fresh
    state. Raises InvalidInput from the parse (a field too long…), leaving no file behind."""
    import_jobs.sweep(get_settings().instance_path)
    job = secrets.token_hex(12)
    rows_path, state_path, rejected_path = _files(job)
    total = 0
    try:
        with rows_path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                total += 1
    except InvalidInput:
        rows_path.unlink(missing_ok=True)
        raise
    rejected_path.write_text("", encoding="utf-8")
    state = {"job": job, "user": current_user().name, "filename": filename, "total": total,
             "done": 0, "created": 0, "updated": 0, "rejected": 0}
    state_path.write_text(json.dumps(state), encoding="utf-8")
    return state


def load_state(job: str) -> dict:
    """The job's state; 404 for an unknown job or one that another user started."""
    if not job.isalnum():
        abort(404)
    _, state_path, _ = _files(job)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        abort(404)
    if state["user"] != current_user().name and current_user().role != "admin":
        abort(404)
    return state


def report_rows(rejected: list[dict]) -> list[dict]:
    """[{row, field, message}] from the import's rejected rows (nested errors flattened)."""
    out = []
    for item in rejected:
        for field, messages in item["errors"].items():
            for name, text in _flatten(field, messages):
                out.append({"row": item["row"], "field": name, "message": text})
    return out


def _flatten(field: str, messages):
    if isinstance(messages, str):
        yield field, messages
    elif isinstance(messages, list):
        for m in messages:
            yield from _flatten(field, m)
    elif isinstance(messages, dict):  # {index: …} for list fields; lat/lon inside locations
        for key, inner in messages.items():
            name = key if field == "locations" and not str(key).isdigit() else field
            yield from _flatten(name, inner)
    else:
        yield field, str(messages)


def run_chunk(state: dict) -> list[dict]:
    """Import the next CHUNK rows, commit, advance the state; return this chunk's report rows."""
    rows_path, state_path, rejected_path = _files(state["job"])
    start = state["done"]
    with rows_path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in itertools.islice(lines, start, start + CHUNK)]
    session = db()
    result = subscriptions.import_subscribers(session, rows, get_settings(), now())
    room = max(0, REPORT_ROWS - state["rejected"])
    kept = sorted(result["rejected"], key=lambda r: r["row"])[:room]
    for item in kept:
        item["row"] += start
    audit.record(session, actor(), "subscriber.import", None,
                 {"source": "csv", "job": state["job"], "rows": [start + 1, start + len(rows)],
                  "created": result["created"], "updated": result["updated"],
                  "rejected": len(result["rejected"])}, now())
    session.commit()  # the chunk is in; only then does the state say so
    with rejected_path.open("a", encoding="utf-8") as out:
        for item in kept:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    state.update(done=start + len(rows), created=state["created"] + result["created"],
                 updated=state["updated"] + result["updated"],
                 rejected=state["rejected"] + len(result["rejected"]))
    state_path.write_text(json.dumps(state), encoding="utf-8")
    if state["done"] >= state["total"]:
        rows_path.unlink(missing_ok=True)  # residents' data, no longer needed by the job
    return report_rows(kept)


def _progress(state: dict) -> dict:
    total = state["total"]
    return {"job": state["job"], "total": total, "done": state["done"],
            "percent": 100 if not total else int(state["done"] * 100 / total),
            "created": state["created"], "updated": state["updated"],
            "rejected": state["rejected"], "finished": state["done"] >= total,
            "report_url": url_for("subscribers.import_report", job=state["job"])}


def _start_upload() -> tuple[dict | None, dict]:
    """(the new job's state, {}) or (None, {"file": [messages]}) for an unusable upload."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, {"file": [_("Choose a CSV file.")]}
    try:
        stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
        return start_job(subscriber_import.iter_csv(stream), upload.filename), {}
    except InvalidInput as exc:
        return None, {"file": [_(m) for m in exc.errors.get("csv", [str(exc.errors)])]}


@bp.get("/subscribers/import")
@login_required(*WRITERS)
def import_form():
    return render_template("subscribers/import.html", errors={}, chunk=CHUNK)


@bp.post("/subscribers/import")
@login_required(*WRITERS)
def import_upload():
    """Without JavaScript: the whole file, chunk after chunk, then the report."""
    state, errors = _start_upload()
    if errors:
        return render_template("subscribers/import.html", errors=errors, chunk=CHUNK), 422
    while state["done"] < state["total"]:
        run_chunk(state)
    return redirect(url_for("subscribers.import_report", job=state["job"]))


@bp.post("/subscribers/import/start.json")
@login_required(*WRITERS)
def import_start():
    state, errors = _start_upload()
    if errors:
        return {"errors": errors}, 422
    return _progress(state)


@bp.post("/subscribers/import/<job>/chunk.json")
@login_required(*WRITERS)
def import_chunk(job: str):
    """The next chunk; `offset` must be where the job stands, so a retried request imports nothing twice."""
    state = load_state(job)
    offset = (request.get_json(silent=True) or {}).get("offset")
    errors = []
    if offset == state["done"] and state["done"] < state["total"]:
        errors = run_chunk(state)
    return {**_progress(state), "errors": errors}


@bp.get("/subscribers/import/<job>")
@login_required(*WRITERS)
def import_report(job: str):
    state = load_state(job)
    _, _, rejected_path = _files(job)
    with rejected_path.open(encoding="utf-8") as lines:
        rejected = [json.loads(line) for line in itertools.islice(lines, REPORT_ROWS)]
    return render_template("subscribers/import_report.html", progress=_progress(state),
                           filename=state["filename"], errors=report_rows(rejected),
                           shown=len(rejected))
