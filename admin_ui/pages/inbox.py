"""The inbox: residents' texts that were no keyword (a question, a report), newest first."""
from __future__ import annotations

from flask import render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from admin_ui import db, get_settings
from admin_ui.pages.guard import login_required, page_blueprint
from notifier.models import InboundMessage

bp = page_blueprint("inbox")

READERS = ("dispatcher", "auditor")
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
    """Paged texts that were no keyword, newest first, numbers masked."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = db()
    query = select(InboundMessage).where(InboundMessage.keyword.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    messages = session.scalars(query.order_by(InboundMessage.at.desc(), InboundMessage.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    sms_sandboxed = get_settings().is_sandboxed("sms")
    return render_template("inbox/index.html", messages=messages, total=total, page=page,
                           per_page=PER_PAGE, subscriber_url=subscriber_url,
                           sms_sandboxed=sms_sandboxed,
                           sandbox_url=(_url("sandbox.index") if get_settings().sandbox_explicit
                                        else None))
