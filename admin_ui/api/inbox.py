"""`/api/v1/inbox`: residents' texts that were not keywords, for dispatchers to read."""
from __future__ import annotations

from sqlalchemy import func, select

from admin_ui import db
from admin_ui.api import READ_ALERTS, bp, page_args, paged, requires, sees_full_addresses
from notifier.masking import mask_address
from notifier.models import InboundMessage
from notifier.subscriptions import iso


@bp.get("/inbox")
@requires(*READ_ALERTS)
def inbox():
    """Paged texts that were no keyword, newest first: {id, at, from, body, subscriber_id}."""
    page, per_page = page_args()
    query = select(InboundMessage).where(InboundMessage.keyword.is_(None))
    session = db()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(InboundMessage.at.desc(), InboundMessage.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    full = sees_full_addresses()  # auditors: masked, as on the inbox page
    return paged([{"id": m.id, "at": iso(m.at),
                   "from": m.from_number if full else mask_address(m.from_number),
                   "body": m.body, "subscriber_id": m.subscriber_id} for m in rows],
                 page, per_page, total)
