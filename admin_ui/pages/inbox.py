"""The inbox: residents' texts that were no keyword (a question, a report), newest first."""
from __future__ import annotations

import redis
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from notifier import inbox
from notifier.errors import InvalidInput, NotFound
from notifier.models import InboundMessage, InboxReply
from notifier.subscriptions import opted_out
from workers.inbox_jobs import enqueue_reply

bp = page_blueprint("inbox")

READERS = ("dispatcher", "auditor")
WRITERS = ("dispatcher",)
SHOWS = ("open", "handled", "all")
PER_PAGE = 50
# The subscribers area's page of one resident; plain text when that page does not exist.
SUBSCRIBER_ENDPOINT = "subscribers.show"


def _url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def subscriber_url(subscriber_id: int | None) -> str | None:
    """The resident's page, when known (and when the subscribers area offers one)."""
    return None if subscriber_id is None else _url(SUBSCRIBER_ENDPOINT, subscriber_id=subscriber_id)


@bp.get("/inbox")
@login_required(*READERS)
def index():
    """Paged texts that were no keyword, newest first, numbers masked; not handled by default."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    show = request.args.get("show") if request.args.get("show") in SHOWS else "open"
    session = db()
    query = select(InboundMessage).where(InboundMessage.keyword.is_(None))
    if show == "open":
        query = query.where(InboundMessage.handled_at.is_(None))
    elif show == "handled":
        query = query.where(InboundMessage.handled_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    messages = session.scalars(query.order_by(InboundMessage.at.desc(), InboundMessage.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    replies: dict[int, list] = {}
    for reply in session.scalars(select(InboxReply).where(
            InboxReply.inbound_id.in_([m.id for m in messages])).order_by(InboxReply.id)):
        replies.setdefault(reply.inbound_id, []).append(reply)
    sms_sandboxed = get_settings().is_sandboxed("sms")
    return render_template("inbox/index.html", messages=messages, total=total, page=page,
                           per_page=PER_PAGE, subscriber_url=subscriber_url, show=show,
                           replies=replies, reply_status=_reply_words(),
                           stopped=opted_out(session, {m.from_number for m in messages}, "sms"),
                           may_reply=current_user().role in ("admin", *WRITERS),
                           sms_sandboxed=sms_sandboxed,
                           sandbox_url=(_url("sandbox.index") if get_settings().sandbox_explicit
                                        else None))


def _reply_words() -> dict[str, str]:
    return {inbox.QUEUED: _("queued"), inbox.SENT: _("sent"), inbox.FAILED: _("failed"),
            inbox.REFUSED: _("not sent (opted out)")}


def _back():
    return redirect(url_for("inbox.index", show=request.args.get("show") or "open"))


@bp.post("/inbox/<id:inbound_id>/reply")
@login_required(*WRITERS)
def reply(inbound_id: int):
    """Queue an SMS answer to one text (the domain refuses an opted-out number)."""
    try:
        answer = inbox.queue_reply(db(), inbound_id, f"user:{current_user().name}",
                                   request.form.get("body", ""), now())
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        flash(" ".join(" ".join(v) for v in exc.errors.values()), "error")
        return _back()
    db().commit()
    try:
        enqueue_reply(get_settings(), answer.id)
    except redis.RedisError as exc:
        flash(_("The reply is stored but the queue is unreachable: %(error)s", error=exc), "error")
        return _back()
    flash(_("Reply queued: it goes out by SMS in a moment."), "info")
    return _back()


@bp.post("/inbox/<id:inbound_id>/handled")
@login_required(*WRITERS)
def handled(inbound_id: int):
    """Mark a thread handled, or open it again."""
    try:
        inbox.mark_handled(db(), inbound_id, f"user:{current_user().name}",
                           request.form.get("handled") != "0", now())
    except NotFound:
        abort(404)
    return _back()
