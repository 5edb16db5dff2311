"""The sandbox: simulated phones and mailboxes, and a simulated inbound text (training mode)."""
from __future__ import annotations

from flask import abort, current_app, render_template, request

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from notifier import audit, sandbox
from notifier.config import CHANNELS
from notifier.errors import InvalidInput
from notifier.phones import mask

bp = page_blueprint("sandbox")

USERS = ("dispatcher",)
PER_PAGE = 200  # messages per page, grouped by address on the page


@bp.app_context_processor
def _sandbox_flag():
    """Lets the navigation show the sandbox link only when SANDBOX=1 is set."""
    return {"sandbox_on": current_app.extensions["tocsin.settings"].sandbox_explicit}


def _require_sandbox():
    # Only an explicit SANDBOX=1: a channel merely without credentials is a live deployment.
    if not get_settings().sandbox_explicit:
        abort(404)


def _grouped(messages) -> list[tuple[str, list]]:
    """[(address, its messages newest first)], the address with the newest message first."""
    groups: dict[str, list] = {}
    for m in messages:
        groups.setdefault(m.to, []).append(m)
    return list(groups.items())


def _render(reply=None, values=None, errors=None, status=200):
    settings = get_settings()
    channel = request.args.get("channel", "").strip()
    channel = channel if channel in CHANNELS else ""
    address = request.args.get("to", "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = sandbox.messages(db(), channel or None,
                                    sandbox.recipient(address, settings.default_region),
                                    page, PER_PAGE)
    return render_template(
        "sandbox/index.html", groups=_grouped(items), total=total, page=page, per_page=PER_PAGE,
        channel=channel, address=address, channels=CHANNELS,
        sandboxed=[c for c in CHANNELS if settings.is_sandboxed(c)],
        sms_sandboxed=settings.is_sandboxed("sms"), reply=reply,
        values=values or {"from": "", "body": ""}, errors=errors or {}), status


@bp.get("/sandbox")
@login_required(*USERS)
def index():
    _require_sandbox()
    return _render()


@bp.post("/sandbox/inbound")
@login_required(*USERS)
def inbound():
    """Simulate a resident's text exactly as POST /api/v1/sandbox/inbound does."""
    settings = get_settings()
    _require_sandbox()
    values = {"from": request.form.get("from", ""), "body": request.form.get("body", "")}
    session = db()
    try:
        text = sandbox.simulate_inbound(session, settings, values["from"], values["body"], now())
    except InvalidInput as exc:
        return _render(values=values, errors=exc.errors, status=422)
    phone = sandbox.recipient(values["from"], settings.default_region)
    audit.record(session, f"user:{current_user().name}", "sandbox.inbound",
                 f"address:{mask(phone)}", {"replied": text is not None}, now())
    reply = {"from": phone, "body": values["body"],
             "text": text if text is not None else _("(no reply is sent to this text)")}
    return _render(reply=reply, values={"from": values["from"], "body": ""})
