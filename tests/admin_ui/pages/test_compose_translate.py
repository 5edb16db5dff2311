"""The compose page's "Translate the missing languages" (a plain form POST) and the preview's
acceptance of machine translations before a live send (DESIGN §11)."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from admin_ui import create_app
from notifier import machine_translation
from notifier.config import Settings
from notifier.db import session_scope
from notifier.i18n import gettext
from notifier.models import AuditEvent
from tests.admin_ui.pages.conftest import page_client, sign_in_with_code
from tests.admin_ui.pages.test_alerts import alert_row, form, residents  # noqa: F401
from tests.support.translate_standin import translated

EN = "Boil tap water before drinking."


@pytest.fixture
def settings(translate_env) -> Settings:
    return Settings.from_env(translate_env)


def translate(client, **overrides):
    data = form(client, text_1="", **overrides)
    return client.post("/alerts/translate", data=data)


def rows(page: str) -> dict[str, tuple[str, bool]]:
    """{language: (text, ticked machine translated)} of the compose form's message rows."""
    out = {}
    for index, lang in re.findall(r'<select id="lang_(\d+)".*?<option value="([^"]*)" selected',
                                  page, re.S):
        text = re.search(rf'<textarea id="text_{index}"[^>]*>(.*?)</textarea>', page, re.S)
        ticked = re.search(rf'name="machine_{index}" value="1"[^>]*checked', page)
        out[lang] = (html.unescape(text.group(1)), bool(ticked))
    return out


def test_the_action_fills_the_empty_rows_and_the_ticked_languages(signed_in, translate_standin,
                                                                   settings):
    client = signed_in("dispatcher")
    response = translate(client, translate_to=["de", "zh-Hant"])
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert rows(page) == {"en": (EN, False), "es": (translated(EN, "es"), True),
                          "de": (translated(EN, "de"), True),
                          "zh-Hant": (translated(EN, "zt"), True)}
    assert 'data-testid="translate-missing"' in page
    assert "Machine translated into" in html.unescape(page)
    assert sorted(b["target"] for b in translate_standin.bodies()) == ["de", "es", "zt"]
    assert {b["source"] for b in translate_standin.bodies()} == {"en"}
    with session_scope(settings.database_url, readonly=True) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "translation.request")).one()
        assert event.actor == "user:dispatcher-1" and event.details["targets"] == [
            "es", "de", "zh-Hant"]


def test_the_filled_form_stores_the_marks_and_the_live_send_needs_them_accepted(
        signed_in, residents, settings):  # noqa: F811
    client = signed_in("dispatcher")
    page = translate(client).get_data(as_text=True)
    assert rows(page)["es"] == (translated(EN, "es"), True)
    created = client.post("/alerts/new", data=form(client, text_1=translated(EN, "es"),
                                                   machine_1="1"))
    assert created.status_code == 302, created.get_data(as_text=True)
    alert_id = int(created.location.rstrip("/").split("/")[-2])
    assert alert_row(settings, alert_id).machine_translated == ["es"]

    again = client.get(f"/alerts/new?from={alert_id}").get_data(as_text=True)
    assert rows(again)["es"] == (translated(EN, "es"), True)  # a changed draft keeps its marks

    preview = html.unescape(client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True))
    assert 'data-testid="preview-machine-es"' in preview
    assert "I accept the machine translations in: Español (es)" in preview
    assert "Machine translated, not written by a person: Spanish (es)" in preview
    # the SMS as residents read it, with the note in Spanish
    assert html.escape(gettext("es", machine_translation.NOTE), quote=False) in preview

    refused = client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf,
                                                              "confirm_word": "SEND"})
    assert refused.status_code == 409
    assert "Español (es) were machine translated" in html.unescape(refused.get_data(as_text=True))
    assert alert_row(settings, alert_id).state == "draft"
    sent = client.post(f"/alerts/{alert_id}/send", data={
        "csrf_token": client.csrf, "confirm_word": "SEND", "accept_machine_translation": "1"})
    assert sent.status_code == 302
    assert alert_row(settings, alert_id).state == "sending"


def test_an_exercise_with_machine_texts_goes_without_acceptance(signed_in, residents,  # noqa: F811
                                                                settings):
    client = signed_in("dispatcher")
    created = client.post("/alerts/new", data=form(client, status="Exercise", machine_1="1"))
    alert_id = int(created.location.rstrip("/").split("/")[-2])
    preview = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-testid="accept-machine-translation"' not in preview
    assert client.post(f"/alerts/{alert_id}/send",
                       data={"csrf_token": client.csrf}).status_code == 302
    assert alert_row(settings, alert_id).state == "sending"


def test_unticking_the_mark_stores_the_text_as_a_persons(signed_in, settings):
    client = signed_in("dispatcher")
    created = client.post("/alerts/new", data=form(client))  # no machine_1: checked by a person
    alert_id = int(created.location.rstrip("/").split("/")[-2])
    assert alert_row(settings, alert_id).machine_translated is None


def test_nothing_to_translate_into_is_said_on_the_form(signed_in, translate_standin):
    client = signed_in("dispatcher")
    response = client.post("/alerts/translate", data=form(client))  # every row has its text
    assert response.status_code == 422
    assert "Choose the languages to translate into" in html.unescape(
        response.get_data(as_text=True))
    assert translate_standin.requests == []


def test_a_failing_server_keeps_the_form_and_says_why(signed_in, translate_standin):
    translate_standin.failure = (500, "model not loaded")
    client = signed_in("dispatcher")
    response = translate(client, headline="Keep this headline")
    assert response.status_code == 503
    page = html.unescape(response.get_data(as_text=True))
    assert "Machine translation failed" in page and "model not loaded" in page
    assert 'value="Keep this headline"' in page and rows(page)["en"] == (EN, False)


def test_without_translate_url_the_page_offers_no_translation(env, user):
    app = create_app(Settings.from_env(env))
    client = page_client(app)
    sign_in_with_code(client, user("plain-dispatcher", "dispatcher"))
    page = client.get("/alerts/new").get_data(as_text=True)
    assert 'data-testid="translate-missing"' not in page
    assert 'data-testid="message-machine-0"' in page  # a text translated elsewhere is marked too


def test_enter_in_a_field_previews_rather_than_translates(signed_in):
    page = signed_in("dispatcher").get("/alerts/new").get_data(as_text=True)
    page = page[page.index('id="compose-form"'):]
    first = re.search(r'<button type="submit"[^>]*>', page).group(0)
    assert 'data-testid="compose-default-submit"' in first and "formaction" not in first
    assert page.index("compose-default-submit") < page.index('data-testid="translate-missing"')


def test_the_sms_counter_of_a_machine_row_counts_its_note(signed_in):
    client = signed_in("dispatcher")
    asked = {"text": "Hierva el agua.", "language": "es", "status": "Actual"}
    plain = client.post("/alerts/sms-info.json", headers={"X-CSRFToken": client.csrf},
                        json=asked).get_json()
    marked = client.post("/alerts/sms-info.json", headers={"X-CSRFToken": client.csrf},
                         json={**asked, "machine": True}).get_json()
    assert marked["text"] == f"{plain['text']} {machine_translation.note('es')}"
    assert marked["characters"] > plain["characters"]
