"""The alert's after-action report page: printable, its charts drawn on the server as SVG."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template

from admin_ui.api.reports import alert_report
from admin_ui.pages import labels, report_chart
from admin_ui.pages.alerts import READERS, alert_or_404, bp
from admin_ui.pages.guard import login_required
from admin_ui.pages.i18n import gettext as _
from admin_ui.pages.report_chart import elapsed



def event_names() -> dict[str, str]:
    names = {"created": _("Written"), "approved": _("Approved (second person)"),
             "sent": _("Sent"), "fanned_out": _("Every message queued"),
             "first_handed_over": _("First message handed over"),
             "last_handed_over": _("Last message handed over"),
             "first_delivered": _("First message delivered"),
             "last_delivered": _("Last message delivered"), "cancelled": _("Cancelled")}
    for p in (50, 90, 99):
        names[f"handed_over_{p}"] = _("%(p)d %% handed over", p=p)
        names[f"delivered_{p}"] = _("%(p)d %% delivered", p=p)
    return names


def local(iso: str | None) -> str:
    """An ISO time of the report in the agency's zone, as every page shows times."""
    if not iso:
        return ""
    return current_app.jinja_env.filters["local_time"](datetime.fromisoformat(iso))


@bp.get("/alerts/<id:alert_id>/report")
@login_required(*READERS)
def report(alert_id: int):
    """The after-action report: the API's report, with a chart and tables, fit to print."""
    alert = alert_or_404(alert_id)
    data = alert_report(alert.id)
    names = {c: labels.channel(c) for c in labels.CHANNELS}
    over_time = report_chart.over_time_chart(data["over_time"], names, {
        "handed_over": _("handed over"), "delivered": _("delivered"),
        "title": _("Messages handed over and delivered over time, per channel"),
        "description": _("Share of each channel's messages handed over to the provider "
                         "(solid lines) and delivered (dashed lines), by time after sending, "
                         "in steps of %(step)s. The table below gives the same numbers.",
                         step=elapsed(data["over_time"]["bucket_seconds"]))})
    acks = report_chart.acknowledgement_chart(data["acknowledgements"], {
        "line": _("acknowledged"), "title": _("Acknowledgements over time"),
        "description": _("Residents who confirmed they got the alert, by time after sending, "
                         "in steps of %(step)s.",
                         step=elapsed(data["acknowledgements"]["bucket_seconds"]))})
    return render_template("alerts/report.html", alert=alert, report=data, chart=over_time,
                           ack_chart=acks, event_names=event_names(), channel_names=names,
                           elapsed=elapsed, local=local)
