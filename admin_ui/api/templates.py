"""`/api/v1/templates`: the alert templates (DESIGN §11) a body may name instead of messages."""
from __future__ import annotations

from admin_ui.api import READ_ALERTS, bp, requires
from notifier import alert_templates


@bp.get("/templates")
@requires(*READ_ALERTS)
def list_templates():
    """Every alert template: its name and CAP fields, its params and their types, its languages
    and which of them a person reviewed. POST /alerts takes `"template": code, "params": {…}`."""
    return {"items": [alert_templates.api_item(t) for t in alert_templates.templates().values()]}
