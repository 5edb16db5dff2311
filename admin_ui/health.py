"""GET /healthz: the database, Redis, live workers and queue lengths; 503 when a part is down."""
from __future__ import annotations

from flask import Blueprint, jsonify
from rq import Queue, Worker
from sqlalchemy import text

from admin_ui import get_settings
from notifier.db import session_scope
from workers.queues import EMERGENCY_QUEUES, QUEUES, redis_connection

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Return {"db", "redis", "workers", "queues", "emergency_queues"}; a failing part carries
    its error message. `queues` keeps its five names; the emergency twins are apart."""
    settings = get_settings()
    body: dict = {"db": "ok", "redis": "ok", "workers": None, "queues": {},
                  "emergency_queues": {}}
    healthy = True
    try:
        with session_scope(settings.database_url, readonly=True) as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here is what the probe exists to report
        body["db"], healthy = _describe(exc), False
    try:
        conn = redis_connection(settings)
        conn.ping()
        body["workers"] = Worker.count(connection=conn)
        body["queues"] = {name: Queue(name, connection=conn).count for name in QUEUES}
        body["emergency_queues"] = {name: Queue(name, connection=conn).count
                                    for name in EMERGENCY_QUEUES}
    except Exception as exc:
        body["redis"], healthy = _describe(exc), False
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _describe(exc: Exception) -> str:
    """One line naming the failure, without SQLAlchemy's statement dump or doc links."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first}"[:300]
