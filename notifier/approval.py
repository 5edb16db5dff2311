"""The two-person rule (DESIGN §9): which alerts need a second person's approval and why, whether
the approval an alert carries still holds, and which drafts wait for one. `alerts.start_sending`
and `alerts.approve` apply it, so the API and the pages meet the same rule."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notifier import geo, reach
from notifier.errors import ApprovalRequired, InvalidInput
from notifier.i18n import N_
from notifier.models import ALERT_CONTENT, Alert
from notifier.preview_area import larger_than_any_zone

APPROVER_ROLES = ("dispatcher", "admin")
_CACHE = "tocsin.approval"
_DRAFT = "draft"  # alerts.DRAFT; alerts imports this module
# Content added after approvals were first stored: left out of the digest while empty, so an
# approval given before the field existed still holds.
LATER_CONTENT = ("headlines", "instructions", "machine_translated", "topic")
# Why an alert needs approval, in plain words: `assess` gives them in English, pages translate.
REASONS = (
    ("everyone", N_("It goes to everyone in the service area.")),
    ("over_threshold", N_("It reaches %(residents)d residents, more than the approval threshold "
                          "of %(threshold)d.")),
    ("larger_than_any_zone", N_("Its drawn area is larger than any zone.")),
)


def _english(text: str, **values) -> str:
    return text % values if values else text


def content_digest(alert: Alert) -> str:
    """SHA-256 of the alert's content; an approval stores it, so any later edit voids it."""
    values = {}
    for field in ALERT_CONTENT:
        value = getattr(alert, field)
        if field in LATER_CONTENT and not value:
            continue
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat()
        values[field] = value
    # The order of the messages matters (the first is the fallback text); other keys do not.
    values["messages"] = list((alert.messages or {}).items())
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_approval(alert: Alert) -> tuple[str, datetime] | None:
    """(approved_by, approved_at) when the alert carries an approval of its current content."""
    if alert.approved_by and alert.approval_digest == content_digest(alert):
        return alert.approved_by, alert.approved_at
    return None


def assess(session: Session, alert: Alert, settings) -> dict:
    """Whether the alert needs approval and why: {"needed", "residents", "over_threshold",
    "larger_than_any_zone", "everyone", "reasons"} (`reasons`: plain English sentences, empty
    when it is not needed; `reasons()` gives them in another language).

    Only an `Actual` alert needs it (Exercise and Test reach the test group only), when it
    reaches more than APPROVAL_THRESHOLD residents, its drawn area is larger than any zone, or
    — whatever the threshold and however few residents there are — it goes to everyone. A
    follow-up (`references_alert_id`) needs it only when it also reaches further than the alert
    it follows: more residents, or everyone when the original did not go to everyone. Answers
    are kept for the rest of the transaction. Raises InvalidInput when the area is invalid,
    except for a stored draft's: one imported from CAP keeps the peer's area until a person
    fixes it (`sendable.check` refuses to send it first), so it reaches nobody yet.
    """
    key = (alert.id, content_digest(alert), settings.approval_threshold)
    cache = _transaction_cache(session)
    if alert.id is not None and key in cache:
        return dict(cache[key])
    try:
        area = geo.parse_area(alert.area)
    except InvalidInput:
        if alert.id is None or alert.state != _DRAFT:
            raise
        return {"needed": False, "residents": 0, "over_threshold": False,
                "larger_than_any_zone": False, "everyone": False, "reasons": []}
    residents = reach.resolve(session, alert, area).count
    over = residents > settings.approval_threshold
    larger = larger_than_any_zone(session.connection(), area)
    needed = (alert.status == "Actual" and (over or larger or area.everyone)
              and _reaches_more_than_original(session, alert, area, residents))
    result = {"needed": needed, "residents": residents, "over_threshold": over,
              "larger_than_any_zone": larger, "everyone": area.everyone}
    result["reasons"] = reasons(result, settings.approval_threshold)
    if alert.id is not None:
        cache[key] = dict(result)
    return result


def require(session: Session, alert: Alert, settings) -> None:
    """Raise ApprovalRequired (with `assess`'s details) when the alert may not go out yet."""
    if alert.status != "Actual" or valid_approval(alert) is not None:
        return
    details = assess(session, alert, settings)
    if details["needed"]:
        raise ApprovalRequired(details)


def reasons(details: dict, threshold: int,
            translate: Callable[..., str] = _english) -> list[str]:
    """Why `assess`'s `details` need approval, one sentence per reason (none when they do not),
    through `translate(text, **values)` (a page's gettext; plain English by default)."""
    if not details["needed"]:
        return []
    values = {"residents": details["residents"], "threshold": threshold}
    return [translate(text, **values) for flag, text in REASONS if details[flag]]


def waiting(session: Session, alert: Alert, settings) -> bool:
    """True when the alert is a draft the two-person rule holds back: it needs a second
    person's approval and carries none valid ("awaiting approval" on the pages and the API).
    Only an Actual draft costs a reach count. Raises InvalidInput when the area is invalid."""
    if alert.state != _DRAFT or alert.status != "Actual" or valid_approval(alert) is not None:
        return False
    return assess(session, alert, settings)["needed"]


def drafts_waiting(session: Session, settings, since: datetime, now: datetime,
                   limit: int = 20) -> list[Alert]:
    """Drafts written since `since`, not expired at `now`, that wait for approval (`waiting`),
    newest first; at most `limit` of the newest Actual drafts are looked at."""
    candidates = session.scalars(
        select(Alert).where(Alert.state == _DRAFT, Alert.status == "Actual",
                            Alert.created_at >= since,
                            or_(Alert.expires_at.is_(None), Alert.expires_at > now))
        .order_by(Alert.id.desc()).limit(limit)).all()
    return [alert for alert in candidates if waiting(session, alert, settings)]


def _reaches_more_than_original(session: Session, alert: Alert, area: geo.Area,
                                residents: int) -> bool:
    if alert.references_alert_id is None:
        return True
    original = session.get(Alert, alert.references_alert_id)
    if original is None:
        return True
    if original.area == alert.area and original.status == alert.status:
        return False  # the very residents the original reached
    if area.everyone and not geo.parse_area(original.area).everyone:
        return True  # widened to the whole service area: always a second person's call
    return residents > reach.resolve(session, original).count


def _transaction_cache(session: Session) -> dict:
    # Keyed by the transaction: a later transaction may see other residents.
    transaction = session.get_transaction()
    held = session.info.get(_CACHE)
    if held is None or held[0] is not transaction:
        held = session.info[_CACHE] = (transaction, {})
    return held[1]

