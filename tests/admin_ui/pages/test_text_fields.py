"""Control characters and line breaks in the pages' text fields: the form again with a 422 and
the error beside the field (the same rule as the API, tests/admin_ui/api/test_text_fields.py)."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.api.test_text_fields import VT, alert_count
from tests.admin_ui.pages.test_alerts import form


@pytest.mark.parametrize("field, value, testid", [
    ("text_1", f"Hierva{VT}el agua.", "errors-messages"),
    ("instruction", f"Boil{VT}for one minute.", "errors-instruction"),
    ("area_description", f"Down{VT}town", "errors-area"),
    ("headline", "Boil\r\nwater", "errors-headline"),
    ("event", f"Boil{VT}water", "errors-event"),
])
def test_the_compose_page_refuses_control_characters_naming_the_field(signed_in, settings, field,
                                                                       value, testid):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, **{field: value}))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    errors = page.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0]
    assert "control characters" in errors or "single line" in errors
    assert alert_count(settings) == 0


def test_the_compose_page_stores_a_textarea_s_crlf_as_lf(signed_in, settings):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, text_0="Boil water.\r\nOne minute.",
                                                     instruction="Boil.\r\nCool."))
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.messages["en"] == "Boil water.\nOne minute."
        assert alert.instruction == "Boil.\nCool."


@pytest.mark.parametrize("page", ["/admin/users", "/admin/tokens"])
def test_user_and_token_names_refuse_line_breaks_on_the_pages(signed_in, page):
    admin = signed_in("admin", "ada")
    response = admin.post(page, data={"name": "dana\nroot", "role": "dispatcher",
                                      "password": "long enough", "csrf_token": admin.csrf})
    assert response.status_code == 422
    assert "single line" in response.get_data(as_text=True)

