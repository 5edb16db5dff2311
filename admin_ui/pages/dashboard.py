"""The dashboard of admins and dispatchers: drafts awaiting a second person's approval, drafts
made from partners' CAP alerts, alerts going out, queue depths, workers alive, the last errors."""
from __future__ import annotations

from datetime import timedelta

import redis
from flask import render_template
from rq import Worker
from sqlalchemy import or_, select

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from channels import social
from notifier import alerts, approval, cap_import, delivery_stats, setup_check
from notifier.audience import RESIDENT_CHANNELS
from notifier.channel_state import UNAVAILABLE, ChannelState, channel_states
from notifier.models import Alert
from workers.queues import QUEUES, queue, redis_connection

bp = page_blueprint("dashboard")
RECENT = timedelta(hours=24)


def queue_status() -> dict:
    """{"queues": {name: jobs waiting}, "failed_jobs": {name: jobs in RQ's failed registry},
    "workers": n, "error": None}, or "error" set to the reason when Redis is down."""
    settings = get_settings()
    conn = redis_connection(settings)
    try:
        queues = [queue(settings, name, conn) for name in QUEUES]
        return {"queues": {q.name: q.count for q in queues},
                "failed_jobs": {q.name: q.failed_job_registry.count for q in queues},
                "workers": Worker.count(connection=conn), "error": None}
    except redis.RedisError as exc:
        return {"queues": {}, "failed_jobs": {}, "workers": None, "error": str(exc)}


def awaiting_approval() -> list[dict]:
    """The last day's drafts the two-person rule holds back, newest first, each with its
    reasons in the page's language and whether the signed-in user wrote it (then they wait for
    a second person; anyone else may approve it)."""
    settings = get_settings()
    session = db()
    actor = f"user:{current_user().name}"
    rows = []
    for alert in approval.drafts_waiting(session, settings, since=now() - RECENT, now=now()):
        details = approval.assess(session, alert, settings)
        rows.append({"alert": alert, "mine": alert.created_by == actor,
                     "reasons": approval.reasons(details, settings.approval_threshold, _)})
    return rows


@bp.get("/dashboard")
@login_required("dispatcher")
def index():
    active = db().scalars(
        select(Alert).where(or_(Alert.state == alerts.SENDING,
                                (Alert.state == alerts.SENT) & (Alert.sent_at >= now() - RECENT)))
        .order_by(Alert.id.desc()).limit(20)).all()
    settings = get_settings()
    # Outside training mode, a channel that records or cannot send reaches nobody: say it here.
    channels = [] if settings.sandbox_explicit else [
        s for s in channel_states(settings, RESIDENT_CHANNELS).values() if s.mode != "live"]
    unknown = social.unknown_urls(settings.social_urls)
    if unknown:  # a typo in SOCIAL_URLS would only show at the first post
        channels.append(ChannelState("social", UNAVAILABLE, _(
            "Apprise knows no service for %(urls)s (SOCIAL_URLS): those accounts get no posts",
            urls=", ".join(unknown))))
    return render_template("dashboard.html", active=active, awaiting=awaiting_approval(),
                           cap_drafts=cap_import.drafts_waiting(db(), now() - RECENT),
                           setup=setup_check.findings(settings), channel_problems=channels,
                           errors=delivery_stats.recent_errors(db(), now() - RECENT),
                           **queue_status())
