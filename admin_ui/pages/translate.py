"""The compose form's "Translate the missing languages": its empty language rows, and the
languages ticked, filled by machine translation (TRANSLATE_URL) and marked machine translated.

A plain form POST (the compose form's own fields, sent to another address), so it works
without JavaScript; nothing is stored, the form comes back filled for the dispatcher to check.
"""
from __future__ import annotations

from flask import flash, request
from marshmallow import ValidationError

from admin_ui import db, get_settings
from admin_ui.pages import compose
from admin_ui.api import now
from admin_ui.pages.alerts import WRITERS, bp, current_user_actor, render_compose
from admin_ui.pages.guard import login_required
from admin_ui.pages.i18n import gettext as _
from channels import translate as translate_client
from notifier import audit, i18n, machine_translation
from notifier.errors import InvalidInput, TranslationUnavailable
from notifier.schemas import TranslateSchema


def translation_request(values: dict, also: list[str]) -> dict:
    """TranslateSchema's data for the form: the first text, its language, and every row with a
    language and no text plus the languages in `also`. Raises InvalidInput (errors.messages)."""
    pairs = values["messages"]
    source = next(((lang, text) for lang, text in pairs if lang and text.strip()), None)
    if source is None:
        raise InvalidInput({"messages": [_("Write the first message before translating it.")]})
    present = {lang for lang, _text in pairs}
    targets = [lang for lang, text in pairs if lang and not text.strip()]
    targets += [tag for tag in also if tag not in present and tag not in targets]
    if not targets:
        raise InvalidInput({"messages": [_(
            "Choose the languages to translate into: add a language and leave its text empty, "
            "or tick them under “Also translate into”.")]})
    try:
        return TranslateSchema().load({"text": source[1], "source": source[0],
                                       "targets": targets})
    except ValidationError as exc:
        raise InvalidInput({"messages": compose._flat(exc.messages)}) from None


def filled(values: dict, translations: dict) -> dict:
    """`values` with each translated language's row filled (added when it had none) and marked."""
    done = {}
    messages = []
    for lang, text in values["messages"]:
        found = translations.get(i18n.normalize(lang)) if lang and not text.strip() else None
        messages.append((lang, found["text"] if found else text))
        if found:
            done[i18n.normalize(lang)] = lang
    for tag, answer in translations.items():
        if tag not in done:
            messages.append((tag, answer["text"]))
            done[tag] = tag
    machine = list(dict.fromkeys([*values.get("machine", []), *done.values()]))
    return {**values, "messages": messages, "machine": machine}


@bp.post("/alerts/translate")
@login_required(*WRITERS)
def translate_missing():
    """The compose form again with its missing languages machine translated; nothing stored."""
    settings = get_settings()
    values = compose.form_values(request.form)
    replaces = request.form.get("replaces", type=int)
    try:
        data = translation_request(values, request.form.getlist("translate_to"))
        client = translate_client.from_settings(settings)
        db().commit()  # the server may take seconds: hold no database lock meanwhile
        answer = machine_translation.translate(data["text"], data["source"], data["targets"],
                                               client)
    except InvalidInput as exc:
        return render_compose(values, exc.errors, 422, replaces)
    except TranslationUnavailable as exc:
        return render_compose(values, {"messages": [
            _("Machine translation failed: %(reason)s", reason=exc.message)]}, 503, replaces)
    values = filled(values, answer["translations"])
    # Alert text left for the translation server: an event an auditor sees (as the API's).
    audit.record(db(), current_user_actor(), "translation.request", None,
                 {"source": data["source"], "targets": data["targets"],
                  "characters": len(data["text"]), "server": client.shown}, now())
    names = ", ".join(i18n.language_label(tag) for tag in answer["translations"])
    flash(_("Machine translated into %(languages)s. Have a speaker check each text; untick "
            "“Machine translated” once a person has checked it.", languages=names), "info")
    return render_compose(values, replaces=replaces)
