"""Control characters and line breaks in the API's text fields: a 422 naming the field
(notifier.text_rules through the same schemas as the pages, tests/admin_ui/pages/test_text_fields.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from notifier.db import session_scope
from notifier.models import Alert
from tests.admin_ui.api.test_alerts import URL as ALERTS, with_changes

VT = "\x0b"  # Word's manual line break: how a control character reaches a pasted alert


def alert_count(settings) -> int:
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Alert))


@pytest.mark.parametrize("changes, path", [
    ({"messages": {"en": "Stay indoors.", "es": f"Quédese{VT}adentro."}}, ("messages", "es")),
    ({"instruction": f"Close{VT}the windows."}, ("instruction",)),
    ({"headline": "Shelter\r\nBcc: everyone@example.org"}, ("headline",)),
    ({"headline": "Shelter\nin place"}, ("headline",)),
    ({"event": f"Hazardous{VT}Materials"}, ("event",)),
])
def test_the_api_refuses_control_characters_naming_the_field(client, auth, settings, changes,
                                                               path):
    response = client.post(ALERTS, json=with_changes(**changes), headers=auth("dispatcher"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [path[0]]
    found = errors
    for key in path:
        found = found[key]
    assert "control characters" in found[0] or "single line" in found[0]
    assert alert_count(settings) == 0


def test_the_api_refuses_control_characters_in_the_area_description(client, auth):
    body = with_changes()
    body["area"]["description"] = f"Down{VT}town"
    response = client.post(ALERTS, json=body, headers=auth("dispatcher"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"area": [
        "description must not contain control characters: U+000B at character 5."]}


def test_a_follow_up_with_a_control_character_is_refused_and_nothing_is_cancelled(
        client, auth, settings):
    headers = auth("dispatcher")
    alert = client.post(ALERTS, json=with_changes(status="Test"), headers=headers).get_json()
    assert client.post(f"{ALERTS}/{alert['id']}/send", headers=headers).status_code == 202
    response = client.post(f"{ALERTS}/{alert['id']}/cancel",
                           json={"message": {"en": f"All{VT}clear."}}, headers=headers)
    assert response.status_code == 422
    assert "en" in response.get_json()["errors"]["messages"]
    assert client.get(f"{ALERTS}/{alert['id']}", headers=headers).get_json()["state"] != "cancelled"


def test_subscriber_and_zone_names_refuse_line_breaks_on_the_api(client, auth):
    headers = auth("admin")
    response = client.post("/api/v1/subscribers", headers=headers,
                           json={"name": "Ana\r\nX", "phone": "+16175550100"})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["name"]
    square = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35],
                                                  [-71.05, 42.37], [-71.07, 42.35]]]}
    response = client.put("/api/v1/zones/beat-3", headers=headers,
                          json={"name": f"Beat{VT}3", "geometry": square})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["name"]
