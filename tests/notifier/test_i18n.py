"""Catalogs loaded with babel directly, compiled on first use, and the language fallback chain."""
from __future__ import annotations

import os
import shutil

import pytest
from babel.messages.pofile import read_po

from notifier import i18n, languages
from notifier.i18n import gettext, pick_language

WORKER_STRINGS = ("[EXERCISE]", "[TEST]", "Reply %(yes)s to confirm.")
LANGUAGES = tuple(row for row in languages.LANGUAGES if row.tag != "en")


def test_it_translates_outside_any_request():
    assert gettext("es", "[EXERCISE]") == "[SIMULACRO]"
    assert gettext("fr", "Reply %(yes)s to confirm.") == "Répondez %(yes)s pour confirmer."


def test_it_falls_back_from_a_regional_tag_to_its_base_language():
    assert gettext("es-MX", "[TEST]") == "[PRUEBA]"
    assert gettext("pt_BR", "[TEST]") == "[TESTE]"


def test_it_returns_the_message_unchanged_for_a_language_without_a_catalog():
    assert gettext("it", "[TEST]") == "[TEST]"
    assert gettext("", "[TEST]") == "[TEST]"


@pytest.mark.parametrize("row", LANGUAGES, ids=[row.tag for row in LANGUAGES])
def test_every_catalog_translates_every_worker_string_and_keeps_the_yes_placeholder(row):
    language = row.tag
    with open(i18n.catalog_path(row), "rb") as fp:
        catalog = read_po(fp, locale=row.catalog)
    for message in WORKER_STRINGS:
        assert catalog[message].string, f"{language} lacks {message!r}"
        assert not catalog[message].fuzzy
    assert "%(yes)s" in catalog["Reply %(yes)s to confirm."].string
    assert gettext(language, "[EXERCISE]") != "[EXERCISE]"


def test_catalogs_cover_the_extracted_template():
    with open(i18n.LOCALES_DIR / "messages.pot", "rb") as fp:
        template = {m.id for m in read_po(fp) if m.id}
    assert set(WORKER_STRINGS) <= template
    for row in LANGUAGES:
        with open(i18n.catalog_path(row), "rb") as fp:
            catalog = read_po(fp, locale=row.catalog)
        assert template <= {m.id for m in catalog if m.string}, row.tag


def test_it_compiles_a_missing_or_stale_mo_on_first_use(tmp_path, monkeypatch):
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR / "es", locales / "es")
    mo = locales / "es" / "LC_MESSAGES" / "messages.mo"
    mo.unlink(missing_ok=True)
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    monkeypatch.setattr(i18n, "_cache", {})
    assert i18n.gettext("es", "[TEST]") == "[PRUEBA]"
    assert mo.is_file()

    po = mo.with_suffix(".po")
    po.write_text(po.read_text(encoding="utf-8").replace('"[PRUEBA]"', '"[ENSAYO]"'), encoding="utf-8")
    os.utime(mo, (1, 1))  # the .mo is now older than the edited .po
    monkeypatch.setattr(i18n, "_cache", {})
    assert i18n.gettext("es", "[TEST]") == "[ENSAYO]"


@pytest.mark.parametrize("available, wanted, default, expected", [
    (["en", "es-MX", "es"], "es-MX", "en", "es-MX"),   # the exact tag
    (["en", "es"], "es-MX", "en", "es"),               # then its base language
    (["en", "es"], "ES_mx", "en", "es"),               # spelled any way
    (["en", "es-ES"], "es-MX", "en", "es-ES"),         # another region before English
    (["fr", "en"], "vi", "en", "en"),                  # then the default language
    (["fr", "en-US"], "vi", "en", "en-US"),            # the default's region variant
    (["fr", "es"], "vi", "en", "fr"),                  # then the first available
    ([], "vi", "en", "en"),
])
def test_it_picks_a_language_along_the_fallback_chain(available, wanted, default, expected):
    assert pick_language(available, wanted, default) == expected
