"""The resident-facing settings still at the demo's defaults."""
from __future__ import annotations

import dataclasses

from notifier.setup_check import findings, optional_text, optional_unset, startup_text


def test_a_fresh_install_names_all_four_with_where_residents_see_them(settings):
    fresh = dataclasses.replace(settings, public_url="http://127.0.0.1:5000", agency_contact=None)
    found = {f.setting: f for f in findings(fresh)}
    assert list(found) == ["AGENCY_NAME", "AGENCY_CONTACT", "TIMEZONE", "PUBLIC_URL"]
    assert found["AGENCY_CONTACT"].value is None and "HELP" in found["AGENCY_CONTACT"].seen_in
    assert "AGENCY_NAME = Tocsin demo" in startup_text(fresh)


def test_each_one_set_leaves_the_list(settings):
    done = dataclasses.replace(settings, agency_name="Springfield PD", agency_contact="311",
                               timezone="America/Chicago", public_url="https://alerts.example.org")
    assert findings(done) == [] and startup_text(done) == ""
    local = dataclasses.replace(done, public_url="http://localhost:8000")
    assert [f.setting for f in findings(local)] == ["PUBLIC_URL"]


def test_machine_translation_is_named_as_optional_never_as_a_warning(settings):
    assert settings.translate_url is None
    assert "TRANSLATE_URL" not in [f.setting for f in findings(settings)]  # no dashboard warning
    assert "TRANSLATE_URL" not in startup_text(settings)
    assert [f.setting for f in optional_unset(settings)] == ["TRANSLATE_URL"]
    assert optional_text(settings).startswith("Optional, not set: TRANSLATE_URL")
    on = dataclasses.replace(settings, translate_url="http://127.0.0.1:5005")
    assert optional_unset(on) == [] and optional_text(on) == ""
