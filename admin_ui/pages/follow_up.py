"""Stopping a live alert (asked once, with what stops) and its follow-ups: an all-clear that
starts from an all-clear text, never the alert's own words, or an update/correction."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.alerts import (SEND_WORD, WRITERS, alert_or_404, bp, current_user_actor,
                                   enqueue)
from admin_ui.pages.guard import login_required
from admin_ui.pages.i18n import gettext as _
from notifier import alerts, broadcast, deliveries
from workers.queues import enqueue_cancel_notice
from notifier.errors import Conflict, InvalidInput
from notifier.models import Delivery

FOLLOW_UP_TYPES = ("Update", "Cancel")


def _unsent(alert_id: int) -> dict:
    """{"waiting": not yet handed to a provider (these stop), "handed": already with one}."""
    rows = dict(db().execute(select(Delivery.status, func.count()).where(
        Delivery.alert_id == alert_id).group_by(Delivery.status)).all())
    waiting = sum(rows.get(s, 0) for s in (*deliveries.CLAIMABLE, deliveries.SENDING,
                                           deliveries.SCHEDULED))
    # Failed ones reached nobody: they are not "out there" and need no calling back.
    handed = sum(rows.get(s, 0) for s in (deliveries.SENT, deliveries.DELIVERED,
                                          deliveries.UNDELIVERED))
    return {"waiting": waiting, "handed": handed}


@bp.get("/alerts/<id:alert_id>/cancel")
@login_required(*WRITERS)
def cancel_confirm(alert_id: int):
    """Ask once before stopping a live alert: what stops, what cannot be called back."""
    alert = alert_or_404(alert_id)
    if alert.state not in (alerts.SENDING, alerts.SENT):
        return redirect(url_for("alerts.show", alert_id=alert.id))
    return render_template("alerts/cancel.html", alert=alert, counts=_unsent(alert.id),
                           fanning_out=alert.state == alerts.SENDING
                           and alert.fanned_out_at is None)


@bp.post("/alerts/<id:alert_id>/cancel")
@login_required(*WRITERS)
def cancel(alert_id: int):
    """Discard a draft, or stop a live alert once confirmed; then offer the follow-up."""
    alert = alert_or_404(alert_id)
    live = alert.state in (alerts.SENDING, alerts.SENT)
    if live and request.form.get("confirmed") != "1":
        return redirect(url_for("alerts.cancel_confirm", alert_id=alert.id), 303)
    try:
        alerts.cancel_alert(db(), alert.id, current_user_actor(), now())
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("alerts.show", alert_id=alert.id))
    if not live:
        flash(_("Draft discarded."), "info")
        return redirect(url_for("alerts.index"))
    announce_cancel(alert)
    flash(_("Stopped: messages not yet sent will not go out. Now send the all-clear or a "
            "correction below, so residents know."), "info")
    return redirect(url_for("alerts.show", alert_id=alert.id) + "#follow-up")


def announce_cancel(alert) -> None:
    """Queue the partners' `alert.cancelled` calls once the cancel is committed."""
    settings = get_settings()
    if broadcast.announces_cancel(alert, settings):
        db().commit()
        enqueue_cancel_notice(settings, alert.id)


def _messages(form) -> dict[str, str]:
    return {key[len("followup_"):]: form.get(key, "").strip() for key in form
            if key.startswith("followup_") and form.get(key, "").strip()}


def _plain_errors(errors: dict) -> str:
    return " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in errors.values())


@bp.post("/alerts/<id:alert_id>/follow-up")
@login_required(*WRITERS)
def follow_up(alert_id: int):
    """Send an Update or an all-clear (Cancel) referencing the alert, which stops; a follow-up
    the two-person rule holds waits on its preview page for approval."""
    alert = alert_or_404(alert_id)
    form = request.form
    msg_type = form.get("msg_type") if form.get("msg_type") in FOLLOW_UP_TYPES else None
    messages = _messages(form)
    problem = None
    if msg_type is None:
        problem = _("Choose Update or All clear.")
    elif not messages:
        problem = _("Write the message in at least one language.")
    elif alert.status == "Actual" and form.get("confirm_word", "").strip() != SEND_WORD:
        problem = _("Type %(word)s to send a live alert.", word=SEND_WORD)
    if problem:
        flash(problem, "error")
        return redirect(url_for("alerts.show", alert_id=alert.id) + "#follow-up")
    try:
        _alert, new = alerts.cancel_alert(db(), alert.id, current_user_actor(), now(),
                                          message=messages, msg_type=msg_type,
                                          settings=get_settings())
    except (Conflict, InvalidInput) as exc:
        flash(exc.message if isinstance(exc, Conflict) else _plain_errors(exc.errors), "error")
        return redirect(url_for("alerts.show", alert_id=alert.id) + "#follow-up")
    announce_cancel(alert)
    if new.state == alerts.DRAFT:
        flash(_("The alert is stopped. The follow-up needs a second dispatcher's approval: "
                "it waits as a draft until one approves it."), "info")
        return redirect(url_for("alerts.preview", alert_id=new.id))
    enqueue(new.id)
    return redirect(url_for("alerts.show", alert_id=new.id))
