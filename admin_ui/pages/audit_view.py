"""How the audit page shows an event to a person: the action in words, the object as a link
to its page, the details as labelled lines (the stored JSON, its hash and the CSV stay as
they are: only the reading changes)."""
from __future__ import annotations

from flask import url_for

from admin_ui.pages.i18n import gettext as _

ACTIONS = {
    "alert.create": "Alert written", "alert.update": "Draft changed",
    "alert.approve": "Approved (second person)", "alert.send": "Sent",
    "alert.cancel": "Stopped by hand", "alert.replace": "Stopped: replaced by its follow-up",
    "alert.discard": "Draft discarded", "alert.fanned_out": "All residents queued",
    "alert.import_cap": "Draft made from a CAP alert",
    "download.deliveries": "Downloaded deliveries", "download.consents": "Downloaded consents",
    "download.opt_outs": "Downloaded opt-outs", "download.audit": "Downloaded the audit log",
    "subscriber.create": "Resident added", "subscriber.update": "Resident changed",
    "subscriber.erase": "Resident erased", "zone.replace": "Zone saved", "zone.delete": "Zone deleted",
    "user.create": "Account created", "user.login": "Signed in", "user.enable": "Account enabled",
    "user.disable": "Account disabled", "user.totp_reset": "Two-factor reset",
    "user.totp_enrol": "Two-factor set up", "user.login_code_failed": "Wrong sign-in code",
    "token.create": "API token created", "token.revoke": "API token revoked",
}
_PAGES = {"alert": ("alerts.show", "alert_id", int), "subscriber":
          ("subscribers.show", "subscriber_id", int)}
_LISTS = {"zone": "zones.index", "user": "accounts.users", "token": "accounts.tokens"}


def action_words(action: str) -> str:
    return _(ACTIONS[action]) if action in ACTIONS else action


def object_url(obj: str | None) -> str | None:
    """The page of an event's object ("alert:12" → the alert's page), when there is one."""
    kind, _sep, key = (obj or "").partition(":")
    try:
        if kind in _PAGES:
            endpoint, arg, cast = _PAGES[kind]
            return url_for(endpoint, **{arg: cast(key)})
        if kind in _LISTS:
            return url_for(_LISTS[kind])
    except (ValueError, LookupError):  # an odd object (BuildError is a LookupError): no link
        return None
    return None


def _value(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)


def detail_lines(details) -> list[tuple[str, str]]:
    """[(label, value)]: "deliveries_stopped": 3 → ("Deliveries stopped", "3")."""
    if not isinstance(details, dict):
        return [(_("Details"), _value(details))] if details else []
    return [(key.replace("_", " ").capitalize(), _value(value)) for key, value in details.items()]


def init_audit_view(app) -> None:
    app.add_template_global(action_words, "audit_action")
    app.add_template_global(object_url, "audit_object_url")
    app.add_template_global(detail_lines, "audit_details")
