"""Plain punctuation on the pages: the preview's button that rewrites a draft's texts with it,
and the note that says what changed (a text is never changed silently)."""
from __future__ import annotations

from flask import flash, redirect, url_for

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.alerts import WRITERS, alert_or_404, bp, current_user_actor
from admin_ui.pages.guard import login_required
from admin_ui.pages.i18n import gettext as _
from notifier import alerts
from notifier.errors import Conflict, InvalidInput
from notifier.gsm_text import describe


def say_rewritten(substitutions: dict[str, list[dict]]) -> None:
    """Flash which texts plain punctuation rewrote, and how (`es: ’ → ' (2)`); nothing when
    none was."""
    if substitutions:
        changes = "; ".join(f"{tag}: {describe(swaps)}" for tag, swaps in substitutions.items())
        flash(_("Plain punctuation written in %(changes)s.", changes=changes), "info")


@bp.post("/alerts/<id:alert_id>/plain-punctuation")
@login_required(*WRITERS)
def plain_punctuation(alert_id: int):
    """Rewrite the draft's texts with plain punctuation where that makes their SMS GSM-7 (as
    `"gsm_safe": true` on PATCH does: audited, any approval cleared), then show its preview."""
    alert = alert_or_404(alert_id)
    try:
        edited = alerts.edit_draft(db(), alert.id, {"gsm_safe": True}, current_user_actor(),
                                   now(), get_settings())
    except Conflict:
        flash(_("This alert was already sent or cancelled."), "error")
        return redirect(url_for("alerts.show", alert_id=alert.id))
    except InvalidInput:  # a stored draft that cannot go out as it is: the preview says why
        return redirect(url_for("alerts.preview", alert_id=alert.id))
    say_rewritten(edited.plain_punctuation)
    return redirect(url_for("alerts.preview", alert_id=alert.id))
