"""The alert page: live delivery counts, failures, deliveries with filters (cancel and
follow-up: admin_ui/pages/follow_up.py)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select

from admin_ui import csv_export, db, get_settings
from admin_ui.api import now
from admin_ui.pages import labels
from admin_ui.pages.alerts import READERS, SEND_WORD, alert_or_404, bp, map_context
from admin_ui.pages.guard import current_user, login_required
from channels.sandbox import is_simulated_id
from notifier import alerts, deliveries, delivery_stats
from notifier.follow_ups import all_clear_texts
from notifier.channel_state import ALERT_CHANNELS, SANDBOX, channel_states
from notifier.config import CHANNELS
from notifier.models import Alert, Delivery

PER_PAGE = 50
# Handed over: the provider has it (sent) or nothing more will happen (final).
HANDED_OVER = frozenset(deliveries.FINAL | {deliveries.SENT})
# Work still to do by the workers; `sent` rows only wait for a provider's receipt.
OPEN = frozenset(set(deliveries.STATUSES) - deliveries.FINAL)


def progress(stats: dict) -> dict:
    """{"total", "handed_over", "percent"} from `delivery_stats.stats` numbers."""
    total = handed = 0
    for counts in stats["channels"].values():
        for status, n in counts.items():
            total += n
            if status in HANDED_OVER:
                handed += n
    percent = int(handed * 100 / total) if total else 0
    return {"total": total, "handed_over": handed, "percent": percent}


def _shown_channels(alert, stats: dict) -> list[str]:
    """The alert's channels, then any it reached only by failover."""
    return list(alert.channels) + sorted(set(stats["channels"]) - set(alert.channels))


def channel_modes(channels) -> dict[str, dict]:
    """{channel: {"mode": live|sandbox|unavailable, "reason"}} under this app's settings."""
    known = [c for c in channels if c in ALERT_CHANNELS]
    return {c: s.as_dict() for c, s in channel_states(get_settings(), known).items()}


def clock() -> str:
    """This request's time of day in the agency's zone: what "Last updated" shows."""
    return now().astimezone(ZoneInfo(get_settings().timezone)).strftime("%H:%M:%S %Z")


def live_numbers(alert) -> dict:
    """What the alert page shows and polls: state (and its words), the API's `stats`,
    progress, each channel's mode, the server's time, and `final` (nothing will change)."""
    stats = delivery_stats.stats(db(), alert.id)
    still_open = any(n for counts in stats["channels"].values()
                     for status, n in counts.items() if status in OPEN)
    return {"id": alert.id, "state": alert.state, "state_label": labels.alert_state(alert.state),
            "stats": stats, "progress": progress(stats),
            "channel_modes": channel_modes(_shown_channels(alert, stats)),
            "as_of": now().isoformat(), "clock": clock(),
            "final": alert.state != alerts.SENDING and not still_open}


def _filters() -> tuple[str | None, str | None]:
    channel = request.args.get("channel") or None
    status = request.args.get("status") or None
    return (channel if channel in CHANNELS else None,
            status if status in deliveries.STATUSES else None)


def _delivery_query(alert_id: int, channel: str | None, status: str | None):
    query = select(Delivery).where(Delivery.alert_id == alert_id)
    if channel:
        query = query.where(Delivery.channel == channel)
    if status:
        query = query.where(Delivery.status == status)
    return query


def _counted(stats: dict, channel: str | None, status: str | None) -> int:
    """How many deliveries the counts say match the filters."""
    return sum(n for c, counts in stats["channels"].items() if channel in (None, c)
               for s, n in counts.items() if status in (None, s))


def _status_words(row: Delivery, modes: dict) -> str:
    """A delivery's status in words, "(simulated)" when the sandbox took it or will."""
    simulated = (is_simulated_id(row.provider_id) or
                 (not row.provider_id and modes.get(row.channel, {}).get("mode") == SANDBOX))
    return labels.delivery_status(row.status, simulated=simulated)


@bp.get("/alerts/<id:alert_id>")
@login_required(*READERS)
def show(alert_id: int):
    """Live counts (polled from stats.json), failures, the deliveries table, cancel, follow-up."""
    alert = alert_or_404(alert_id)
    if alert.state == alerts.DRAFT:
        return redirect(url_for("alerts.preview", alert_id=alert.id))
    session = db()
    channel, status = _filters()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    # The counts first, then the rows: a row written between the two reads is one more
    # row, never a table saying "none" under counts that say some (the fan-out writes
    # while the page renders). The table's total is the counts' own, so the two agree.
    live = live_numbers(alert)
    total = _counted(live["stats"], channel, status)
    query = _delivery_query(alert.id, channel, status)
    rows = session.scalars(query.order_by(Delivery.id).offset((page - 1) * PER_PAGE)
                           .limit(PER_PAGE)).all()
    failures = session.execute(
        select(Delivery.channel, Delivery.status, Delivery.error_code, Delivery.error_message,
               func.count())
        .where(Delivery.alert_id == alert.id,
               Delivery.status.in_((deliveries.FAILED, deliveries.UNDELIVERED)))
        .group_by(Delivery.channel, Delivery.status, Delivery.error_code, Delivery.error_message)
        .order_by(func.count().desc()).limit(20)).all()
    follow_ups = session.scalars(select(Alert).where(
        Alert.references_alert_id == alert.id).order_by(Alert.id)).all()
    modes = live["channel_modes"]
    return render_template(
        "alerts/show.html", alert=alert, live=live, rows=rows, total=total,
        row_status={r.id: _status_words(r, modes) for r in rows},
        shown_channels=_shown_channels(alert, live["stats"]), modes=modes,
        page=page, per_page=PER_PAGE, channel=channel, status=status, failures=failures,
        statuses=deliveries.STATUSES, channels=CHANNELS, follow_ups=follow_ups,
        send_word=SEND_WORD, state_names={s: labels.alert_state(s) for s in alerts.STATES},
        all_clear=all_clear_texts(alert, get_settings()), **map_context())


@bp.get("/alerts/<id:alert_id>/stats.json")
@login_required(*READERS)
def stats_json(alert_id: int):
    """The numbers the alert page polls (the API's `stats`, plus progress, the channels'
    modes and the server's time)."""
    return live_numbers(alert_or_404(alert_id))


@bp.get("/alerts/<id:alert_id>/deliveries.csv")
@login_required(*READERS)
def deliveries_csv(alert_id: int):
    """The deliveries (with the page's filters) as formula-safe CSV, streamed in chunks."""
    alert_or_404(alert_id)
    channel, status = _filters()
    query = _delivery_query(alert_id, channel, status)
    # Auditors read addresses masked, as in the table above.
    masked = current_user().role not in ("admin", "dispatcher")
    settings = get_settings()
    csv_export.audit_download(settings.database_url, f"user:{current_user().name}", "deliveries",
                              f"alert:{alert_id}", {"channel": channel, "status": status,
                                                    "masked": masked}, now())
    return csv_export.deliveries_csv(settings.database_url, query,
                                     f"alert-{alert_id}-deliveries.csv", masked=masked)


@bp.get("/alerts/<id:alert_id>/cap.xml")
@login_required(*READERS)
def cap_xml(alert_id: int):
    """The alert as CAP 1.2 for signed-in staff (drafts, Exercise and Test included)."""
    from flask import Response

    from notifier import cap
    return Response(cap.cap_document(db(), alert_or_404(alert_id), get_settings()),
                    mimetype=cap.MEDIA_TYPE)
