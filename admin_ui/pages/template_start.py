"""The compose page's "Start from a template" (DESIGN §11): choose one (`?template=code`), give
its params, and the form comes back filled in every language, before any preview. Plain GET
and POST round trips: it works without JavaScript."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request

from admin_ui import get_settings
from admin_ui.api import now
from admin_ui.pages import compose
from admin_ui.pages.alerts import WRITERS, bp, render_compose
from admin_ui.pages.guard import login_required
from admin_ui.pages.i18n import gettext as _
from admin_ui.pages.i18n import ui_language
from notifier import alert_templates
from notifier.errors import InvalidInput


def choices(ui: str) -> list[tuple[str, str]]:
    """(code, name in the dispatcher's language) of every template, by name."""
    names = [(code, t.text_for(ui).name) for code, t in alert_templates.templates().items()]
    return sorted(names, key=lambda item: item[1].casefold())


def start_context(code: str | None = None, given: dict | None = None,
                  errors: dict | None = None) -> dict:
    """The "Start from a template" box: the choices, and the chosen one's param fields (plain
    labels in the dispatcher's language, what was typed, the errors of each)."""
    ui = ui_language()
    template = alert_templates.templates().get(code or "")
    fields = []
    if template is not None:
        labels = template.text_for(ui).labels
        fields = [{"name": name, "kind": kind, "label": labels[name],
                   "value": (given or {}).get(name, ""), "errors": (errors or {}).get(name, [])}
                  for name, kind in template.params.items()]
    return {"choices": choices(ui), "chosen": template, "fields": fields,
            "errors": errors or {}}


def params_from_form(form, template, zone_name: str) -> tuple[dict, dict]:
    """(what was typed, the params for `fill`): a `datetime-local` time is read in TIMEZONE and
    given with its offset; anything unreadable is passed on for the domain to name."""
    given, params = {}, {}
    for name, kind in template.params.items():
        raw = form.get(f"param_{name}", "").strip()
        given[name] = params[name] = raw
        if kind == "time" and raw:
            try:
                local = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if local.tzinfo is None:
                local = local.replace(tzinfo=ZoneInfo(zone_name))
            params[name] = local.isoformat()
    return given, params


def filled_values(template, filled, settings) -> dict:
    """The compose form's values from a filled template: CAP fields, the default language's
    headline and instruction, every language's message, headline and instruction, and the
    languages no person reviewed (kept on the form as machine translated)."""
    values = compose.blank_values(settings)
    first = next(iter(filled.messages))
    values.update(
        headline=filled.headlines[first], instruction=filled.instructions[first],
        event=template.event, category=template.category, severity=template.severity,
        urgency=template.urgency, certainty=template.certainty,
        # Only a suggestion (test_message: Test); the radio buttons stay the dispatcher's.
        status=template.status or "", messages=list(filled.messages.items()),
        headlines=filled.headlines, instructions=filled.instructions,
        machine=filled.machine_translated)
    return values


@bp.post("/alerts/new/template")
@login_required(*WRITERS)
def fill_template():
    """The compose form filled from a template and its params; 422 with the params again."""
    settings = get_settings()
    template = alert_templates.templates().get(request.form.get("template", ""))
    if template is None:
        return render_compose(compose.blank_values(settings), status=422, start=start_context(
            errors={"template": [_("Choose a template from the list.")]}))
    given, params = params_from_form(request.form, template, settings.timezone)
    try:
        filled = alert_templates.fill(template, params, settings, now())
    except InvalidInput as exc:
        return render_compose(compose.blank_values(settings), status=422, start=start_context(
            template.code, given, exc.errors.get("params") or {}))
    return render_compose(filled_values(template, filled, settings),
                          start=start_context(template.code, given))
