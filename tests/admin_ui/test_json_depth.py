"""admin_ui.json_depth and the app's JSON bodies: nested deeper than 100 levels → 400, never 500."""
from __future__ import annotations

import json

import pytest

from admin_ui.json_depth import nested_deeper_than


def nested(levels: int) -> bytes:
    """`levels` objects inside each other, as an alert body's unknown field."""
    return b'{"headline": ' * levels + b'"x"' + b"}" * levels


@pytest.mark.parametrize("levels, refused", [(100, False), (101, True), (100_000, True)])
def test_json_nested_deeper_than_100_levels_is_a_400(client, auth, levels, refused):
    response = client.post("/api/v1/alerts", data=nested(levels), headers=auth("dispatcher"),
                           content_type="application/json")
    if refused:
        assert response.status_code == 400
        assert response.get_json() == {"error": "the JSON is nested deeper than 100 levels"}
    else:
        assert response.status_code == 422  # read, then refused as an alert


def test_arrays_count_as_levels_too(client, auth):
    body = b'{"messages": ' + b"[" * 100 + b"]" * 100 + b"}"
    response = client.post("/api/v1/alerts", data=body, headers=auth("dispatcher"),
                           content_type="application/json")
    assert response.status_code == 400


def test_brackets_inside_strings_are_text_not_nesting():
    text = "[" * 500 + '\\"{' * 200
    assert not nested_deeper_than(json.dumps({"messages": {"en": text}, "b": ["\\", "[["]}).encode())
    assert nested_deeper_than(json.dumps({"a": "\\", "b": [[[[]]]]}).encode(), limit=4)
    assert not nested_deeper_than(json.dumps({"a": "\\", "b": [[[]]]}).encode(), limit=4)


def test_a_wide_body_of_many_shallow_rows_is_not_deep():
    rows = [{"name": f"R{i} [x]", "locations": [{"lat": 42.3, "lon": -71.0}]} for i in range(5000)]
    assert not nested_deeper_than(json.dumps(rows).encode())
