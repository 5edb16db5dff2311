"""The compose page's "Start from a template": choose, give the params, see every language."""
from __future__ import annotations

import html
import json
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from notifier import languages
from notifier.config import Settings
from tests.admin_ui.pages.test_alerts import SQUARE, alert_row

UNREVIEWED = [tag for tag in languages.TAGS if tag != "en"]
ROAD = {"template": "road_closure", "param_road": "Main St", "param_detour": "Elm St",
        "param_until": "2099-11-24T18:00"}


@pytest.fixture
def settings(env) -> Settings:
    """The agency's clocks run in New York: a datetime-local is read there."""
    return Settings.from_env({**env, "TIMEZONE": "America/New_York"})


class FormReader(HTMLParser):
    """The fields of one form on a page, as a browser would submit them untouched."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or tag == "template":
            return
        if tag == "input" and a.get("name") and not a.get("disabled"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], html.unescape(self._textarea[1])))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(page: str, form_id: str = "compose-form") -> list[tuple[str, str]]:
    reader = FormReader(form_id)
    reader.feed(page)
    return reader.fields


def with_fields(fields: list, **values) -> MultiDict:
    """`fields` with those named set as a dispatcher would (status, area…)."""
    return MultiDict([(k, v) for k, v in fields if k not in values] + list(values.items()))


def fill(client, **params):
    return client.post("/alerts/new/template", data={"csrf_token": client.csrf, **params})


def test_the_templates_are_listed_by_name_in_the_dispatchers_language(signed_in):
    client = signed_in("dispatcher")
    page = client.get("/alerts/new").get_data(as_text=True)
    assert '<option value="evacuate_now">Evacuate now</option>' in page
    assert '<option value="boil_water">Boil water advisory</option>' in page
    assert 'data-testid="template-params"' not in page  # no template chosen yet
    spanish = client.get("/alerts/new?lang=es").get_data(as_text=True)
    assert '<option value="evacuate_now">Evacuar ahora</option>' in spanish


def test_choosing_a_template_shows_its_params_with_plain_labels(signed_in):
    page = signed_in("dispatcher").get("/alerts/new?template=road_closure").get_data(as_text=True)
    assert '<option value="road_closure" selected>Road closure</option>' in page
    assert '<label for="param_road">Closed road (and where)</label>' in page
    assert '<label for="param_until">Expected to reopen</label>' in page
    assert 'type="datetime-local" id="param_until" name="param_until"' in page
    assert "America/New_York" in page.split('id="param_until-hint"')[1][:200]


def test_filling_writes_every_languages_row_and_the_cap_fields(signed_in):
    client = signed_in("dispatcher")
    response = fill(client, **ROAD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    fields = dict(form_fields(page))
    rows = {fields[f"lang_{i}"]: fields[f"text_{i}"] for i in range(len(languages.TAGS))}
    assert list(rows) == list(languages.TAGS)
    # The datetime-local is New York time; not today, so the date is written too.
    assert "Expected to reopen: Tue, Nov 24, 2099, 6:00 PM." in rows["en"]
    assert "Reapertura prevista: mar, 24 nov 2099, 18:00." in rows["es"]
    assert rows["de"].startswith("STRASSE GESPERRT für den gesamten Verkehr: Main St.")
    assert (fields["headline"], fields["event"], fields["severity"], fields["category"]) == (
        "Road closed: Main St", "Road Closure", "Minor", "Transport")
    assert fields["instruction"].startswith("Avoid Main St. Use Elm St instead")
    assert fields["headline_ar"] == "طريق مغلق: Main St"
    assert "status" not in fields  # the dispatcher chooses the status
    # Each unreviewed language's row is ticked "Machine translated" (the dispatcher may untick).
    ticked = [fields[f"lang_{k[len('machine_'):]}"] for k, v in form_fields(page)
              if k.startswith("machine_") and v == "1"]
    assert ticked == UNREVIEWED
    assert 'data-testid="machine-languages"' in page
    # What was typed stays in the template box.
    assert 'name="param_road" value="Main St"' in page


def test_a_filled_form_previews_as_an_alert_in_every_language(signed_in, settings):
    client = signed_in("dispatcher")
    fields = form_fields(fill(client, **ROAD).get_data(as_text=True))
    response = client.post("/alerts/new", data=with_fields(
        fields, status="Actual", area_geojson=json.dumps(SQUARE), area_description="Downtown"))
    assert response.status_code == 302, response.get_data(as_text=True)
    alert = alert_row(settings, int(response.location.rstrip("/").split("/")[-2]))
    assert list(alert.messages) == list(languages.TAGS)
    assert alert.headlines["ko"] == "도로 통제: Main St" and alert.headlines["en"] == alert.headline
    assert alert.instructions["fr"].startswith("Évitez Main St.")
    assert alert.machine_translated == UNREVIEWED


def test_the_test_message_template_suggests_the_test_status(signed_in):
    page = fill(signed_in("dispatcher"), template="test_message").get_data(as_text=True)
    assert dict(form_fields(page))["status"] == "Test"


def test_missing_or_bad_params_come_back_named_next_to_their_field(signed_in):
    client = signed_in("dispatcher")
    response = fill(client, **{**ROAD, "param_road": "", "param_until": "next tuesday"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Must not be empty" in page.split('id="param_road-errors"')[1][:200]
    assert "is not a date and time" in page.split('id="param_until-errors"')[1][:200]
    assert 'name="param_detour" value="Elm St"' in page
    assert 'name="text_1"' not in page  # nothing was filled


def test_an_unknown_template_is_refused(signed_in):
    response = fill(signed_in("dispatcher"), template="evacuate_later")
    assert response.status_code == 422
    assert "Choose a template from the list." in response.get_data(as_text=True)


def test_removing_a_row_drops_its_marks(signed_in, settings):
    client = signed_in("dispatcher")
    fields = form_fields(fill(client, **ROAD).get_data(as_text=True))
    spanish_row = next(k[5:] for k, v in fields if k.startswith("lang_") and v == "es")
    fields = [(k, v) for k, v in fields if k not in (f"lang_{spanish_row}", f"text_{spanish_row}")]
    response = client.post("/alerts/new", data=with_fields(
        fields, status="Actual", area_geojson=json.dumps(SQUARE)))
    assert response.status_code == 302, response.get_data(as_text=True)
    alert = alert_row(settings, int(response.location.rstrip("/").split("/")[-2]))
    assert "es" not in alert.messages and "es" not in alert.headlines
    assert alert.machine_translated == [t for t in UNREVIEWED if t != "es"]
