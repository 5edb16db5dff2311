"""/api/v1/translate: machine translations of a text through TRANSLATE_URL (DESIGN §11)."""
from __future__ import annotations

from admin_ui import db, get_settings
from admin_ui.api import WRITE_PEOPLE, bp, json_body, record, requires
from channels import translate as translate_client
from notifier import machine_translation
from notifier.schemas import TranslateSchema


@bp.post("/translate")
@requires(*WRITE_PEOPLE)
def translate():
    """200 {"translations": {tag: {"text", "machine": true}}}: the text machine translated into
    each target; 422 for bad input, 503 when TRANSLATE_URL is unset or its server fails."""
    data = TranslateSchema().load(json_body())
    client = translate_client.from_settings(get_settings())
    # The server may take many seconds: never hold the database (SQLite's write lock) meanwhile.
    db().commit()
    answer = machine_translation.translate(data["text"], data["source"], data["targets"], client)
    # Alert text leaves the system for the translation server: an event an auditor sees.
    record("translation.request", None, {"source": data["source"], "targets": data["targets"],
                                         "characters": len(data["text"]), "server": client.shown})
    return answer
