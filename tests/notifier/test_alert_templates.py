"""notifier.alert_templates: every template file is whole, and fills in every language."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton, format_time

from notifier import alert_templates, languages, template_files
from notifier.config import Settings
from notifier.errors import InvalidInput, TemplateFileError
from notifier.local_times import babel_locale
from notifier.render import sms_info

ZONE = "America/New_York"
SETTINGS = Settings(database_url="sqlite://", redis_url="redis://", secret_key="k",
                    timezone=ZONE)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
TODAY_1430 = "2026-11-22T14:30:00-05:00"
TUESDAY_1430 = "2026-11-24T14:30:00-05:00"
REQUIRED = ("shelter_in_place", "evacuate_now", "evacuation_warning", "boil_water",
            "missing_person", "road_closure", "severe_weather", "police_activity", "all_clear",
            "test_message")
TEMPLATES = alert_templates.templates()
SAMPLE_TEXT = {"area": "Riverside", "shelter": "Lincoln High School", "name": "Jamie Doe",
               "age": "7", "place": "Elm Park", "phone": "617-555-0100", "road": "Main St",
               "detour": "Elm St"}


def sample_params(template) -> dict:
    return {name: TUESDAY_1430 if kind == "time" else SAMPLE_TEXT.get(name, f"Sample {name}")
            for name, kind in template.params.items()}


def test_the_templates_design_asks_for_are_all_there():
    assert set(REQUIRED) <= set(TEMPLATES)


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_each_template_has_every_language_and_says_honestly_who_reviewed_it(code):
    template = TEMPLATES[code]
    assert list(template.texts) == list(languages.TAGS)
    assert template.texts["en"].reviewed == "source"
    # Written by the helper that added them, checked by nobody fluent yet: machine, until a
    # person reviews a language and writes their name in its file.
    assert {text.reviewed for tag, text in template.texts.items() if tag != "en"} == {"machine"}
    assert len(template.texts["en"].message) <= 300  # an SMS, not an essay


@pytest.mark.parametrize("code, tag", [(c, t) for c in sorted(TEMPLATES) for t in languages.TAGS])
def test_every_template_renders_in_every_language_with_its_params(code, tag):
    template = TEMPLATES[code]
    params = sample_params(template)
    filled = alert_templates.fill(template, params, SETTINGS, NOW)
    for texts in (filled.messages, filled.headlines, filled.instructions):
        assert "{" not in texts[tag] and "}" not in texts[tag]
    written = " ".join((filled.messages[tag], filled.headlines[tag], filled.instructions[tag]))
    moment = datetime.fromisoformat(TUESDAY_1430)
    time = format_time(moment, "short", tzinfo=ZoneInfo(ZONE), locale=babel_locale(tag))
    for name, kind in template.params.items():
        assert (params[name] if kind == "text" else time.replace("\u202f", " ")) in written
    assert list(filled.messages) == list(languages.TAGS)  # DEFAULT_LANGUAGE (en) first


@pytest.mark.parametrize("tag", ["en", "es", "de", "ja", "ar", "zh-Hant", "tl", "ko"])
def test_a_time_today_is_the_languages_short_time_without_a_date(tag):
    filled = alert_templates.fill(TEMPLATES["severe_weather"],
                                  {"area": "Riverside", "until": TODAY_1430}, SETTINGS, NOW)
    moment = datetime.fromisoformat(TODAY_1430)
    locale = babel_locale(tag)
    expected = format_time(moment, "short", tzinfo=ZoneInfo(ZONE), locale=locale)
    assert expected.replace("\u202f", " ") in filled.messages[tag]
    assert format_skeleton("MMMEd", moment, tzinfo=ZoneInfo(ZONE), locale=locale) \
        not in filled.messages[tag]


def test_times_are_written_as_each_language_writes_them():
    filled = alert_templates.fill(TEMPLATES["severe_weather"],
                                  {"area": "Riverside", "until": TODAY_1430}, SETTINGS, NOW)
    assert "until 2:30 PM." in filled.messages["en"]
    assert "Vigente hasta: 14:30." in filled.messages["es"]
    assert "Gültig bis: 14:30." in filled.messages["de"]
    assert "有効期限：14:30。" in filled.messages["ja"]


@pytest.mark.parametrize("tag", ["en", "es", "de", "ja", "ar", "fr", "ru", "bn"])
def test_a_time_on_another_day_also_gives_the_date(tag):
    filled = alert_templates.fill(TEMPLATES["severe_weather"],
                                  {"area": "Riverside", "until": TUESDAY_1430}, SETTINGS, NOW)
    moment = datetime.fromisoformat(TUESDAY_1430)
    locale = babel_locale(tag)
    message = filled.messages[tag]
    assert format_skeleton("MMMEd", moment, tzinfo=ZoneInfo(ZONE), locale=locale) in message
    assert format_time(moment, "short", tzinfo=ZoneInfo(ZONE),
                       locale=locale).replace("\u202f", " ") in message


def test_times_are_written_in_the_agencys_time_zone_whatever_offset_they_came_with():
    filled = alert_templates.fill(TEMPLATES["road_closure"],
                                  {"road": "Main St", "detour": "Elm St",
                                   "until": "2026-11-22T19:30:00Z"}, SETTINGS, NOW)
    assert "Expected to reopen: 2:30 PM." in filled.messages["en"]


def test_haitian_creole_dates_use_creole_names_cldr_lacks():
    filled = alert_templates.fill(TEMPLATES["severe_weather"],
                                  {"area": "Riverside", "until": TUESDAY_1430}, SETTINGS, NOW)
    assert "Jiska: madi 24 novanm 14:30." in filled.messages["ht"]


def test_an_english_time_keeps_the_sms_in_gsm_7():
    # CLDR puts a narrow no-break space before PM: one would make every English SMS UCS-2.
    filled = alert_templates.fill(TEMPLATES["road_closure"],
                                  {"road": "Main St", "detour": "Elm St", "until": TODAY_1430},
                                  SETTINGS, NOW)
    assert sms_info(filled.messages["en"])["encoding"] == "GSM-7"


def test_unreviewed_languages_are_the_machine_translated_ones():
    filled = alert_templates.fill(TEMPLATES["boil_water"], {"area": "Riverside"}, SETTINGS, NOW)
    assert filled.machine_translated == [t for t in languages.TAGS if t != "en"]


def test_the_default_language_comes_first():
    spanish = dataclasses.replace(SETTINGS, default_language="es")
    filled = alert_templates.fill(TEMPLATES["boil_water"], {"area": "Riverside"}, spanish, NOW)
    assert list(filled.messages)[0] == "es"


@pytest.mark.parametrize("params, name, words", [
    ({"road": "Main St", "detour": "Elm St"}, "until", "Missing: road_closure needs until"),
    ({"road": "Main St", "detour": "Elm St", "until": TODAY_1430, "reason": "x"}, "reason",
     "Not a param of road_closure; it takes: road, detour, until."),
    ({"road": "Main St", "detour": "Elm St", "until": "tomorrow at six"}, "until",
     "is not a date and time: give ISO 8601 with an offset"),
    ({"road": "Main St", "detour": "Elm St", "until": "2026-11-22T18:00"}, "until",
     "has no offset from UTC"),
    ({"road": "Main St", "detour": "Elm St", "until": 1800}, "until", "Must be a date and time"),
    ({"road": "  ", "detour": "Elm St", "until": TODAY_1430}, "road", "Must not be empty"),
    ({"road": "Main\nSt", "detour": "Elm St", "until": TODAY_1430}, "road", "single line"),
    ({"road": "Main\x07St", "detour": "Elm St", "until": TODAY_1430}, "road", "U+0007"),
    ({"road": "M" * 201, "detour": "Elm St", "until": TODAY_1430}, "road", "at most 200"),
])
def test_bad_params_are_named_with_what_is_wrong(params, name, words):
    with pytest.raises(InvalidInput) as caught:
        alert_templates.fill(TEMPLATES["road_closure"], params, SETTINGS, NOW)
    assert words in " ".join(caught.value.errors["params"][name])


def test_an_unknown_template_is_named_with_the_known_ones():
    with pytest.raises(InvalidInput) as caught:
        alert_templates.get("evacuate_later")
    assert "Unknown template 'evacuate_later'" in caught.value.errors["template"][0]
    assert "evacuate_now" in caught.value.errors["template"][0]


def test_the_api_item_has_designs_shape():
    item = alert_templates.api_item(TEMPLATES["road_closure"])
    assert list(item) == ["code", "name", "event", "category", "severity", "urgency",
                          "certainty", "params", "param_types", "languages", "reviewed"]
    assert item["params"] == ["road", "detour", "until"]
    assert item["param_types"] == {"road": "text", "detour": "text", "until": "time"}
    assert item["name"]["es"] == "Cierre de vía" and item["reviewed"]["en"] is True
    assert item["reviewed"]["es"] is False and item["languages"] == list(languages.TAGS)


def test_expand_keeps_what_the_body_gives_over_the_templates_fields():
    body = {"template": "evacuate_now", "params": {"area": "Riverside", "shelter": "Lincoln HS",
                                                "by": "2026-11-22T05:30:00+00:00"},
            "severity": "Severe", "headline": "Leave Riverside now", "status": "Actual",
            "machine_translated": []}
    out = alert_templates.expand(body, SETTINGS, NOW)
    assert "template" not in out and "params" not in out
    assert out["severity"] == "Severe" and out["urgency"] == "Immediate"
    assert out["event"] == "Evacuation Immediate"
    assert out["headline"] == out["headlines"]["en"] == "Leave Riverside now"
    assert out["headlines"]["es"] == "Evacúe ahora: Riverside"
    assert out["instruction"] == out["instructions"]["en"]
    assert out["machine_translated"] == [t for t in languages.TAGS if t != "en"]


def test_expand_refuses_messages_with_a_template_and_params_without_one():
    with pytest.raises(InvalidInput) as caught:
        alert_templates.expand({"template": "boil_water", "params": {"area": "x"},
                                "messages": {"en": "Boil water."}}, SETTINGS, NOW)
    assert "either messages or a template" in caught.value.errors["template"][0]
    with pytest.raises(InvalidInput) as caught:
        alert_templates.expand({"params": {"area": "x"}}, SETTINGS, NOW)
    assert "params go with a template" in caught.value.errors["params"][0]


# A bad file stops start-up, naming the file and the field.
SOURCE = (template_files.TEMPLATES_DIR / "shelter_in_place.toml").read_text(encoding="utf-8")


def broken(tmp_path, text: str, name: str = "shelter_in_place"):
    (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    with pytest.raises(TemplateFileError) as caught:
        template_files.load(tmp_path)
    return str(caught.value)


def test_a_good_copy_loads(tmp_path):
    (tmp_path / "shelter_in_place.toml").write_text(SOURCE, encoding="utf-8")
    assert list(template_files.load(tmp_path)) == ["shelter_in_place"]


def test_a_missing_language_is_named(tmp_path):
    assert broken(tmp_path, SOURCE.split("\n[bn]")[0]) == \
        "shelter_in_place.toml: bn: missing; every language needs its texts (bn)"


def test_an_undeclared_placeholder_is_named(tmp_path):
    text = SOURCE.replace("Go indoors at once.", "Go indoors at {when}.", 1)
    assert broken(tmp_path, text) == \
        "shelter_in_place.toml: en.message: uses {when}, not declared in [params]"


def test_a_declared_param_no_language_uses_is_named(tmp_path):
    text = SOURCE.replace('area = "text"', 'area = "text"\nuntil = "time"')
    text = re.sub(r"labels = \{ area = (\"[^\"]*\") \}", r"labels = { area = \1, until = \1 }", text)
    assert broken(tmp_path, text) == "shelter_in_place.toml: en: never uses the param(s) until"


def test_placeholders_that_differ_from_the_source_language_are_named(tmp_path):
    text = SOURCE.replace('headline = "Refúgiese en el lugar ahora: {area}"',
                          'headline = "Refúgiese en el lugar ahora"')
    assert "shelter_in_place.toml: es.headline: has placeholders [] where en has ['area']" \
        == broken(tmp_path, text)


@pytest.mark.parametrize("change, message", [
    (('severity = "Extreme"', 'severity = "Dire"'), "severity: must be one of Extreme"),
    (('code = "shelter_in_place"', 'code = "shelter"'), "code: must be 'shelter_in_place'"),
    (('[es]\nreviewed = "machine"', '[es]\nreviewed = "source"'), 'es.reviewed: "source" is only'),
    (('[es]\nreviewed = "machine"', '[es]\nreviewed = "yes"'), "es.reviewed: must be"),
    (("Go indoors at once.", "Go indoors {at once."), "en.message: has a brace"),
    (('name = "Refugiarse en el lugar"', 'name = ""'), "es.name: must be a non-empty string"),
    (('[fr]', '[klingon]\nname = "x"\n\n[fr]'), "klingon: neither a field nor a language"),
    (('area = "text"', 'area = "number"'), "params.area: must be one of text, time"),
    (('labels = { area = "Zona (calles o vecindario)" }', 'labels = {}'), "es.labels: must label"),
    (('code = "shelter_in_place"', 'code = "shelter_in_place'), "not readable TOML"),
])
def test_other_mistakes_name_the_file_and_the_field(tmp_path, change, message):
    assert SOURCE.count(change[0]) >= 1
    assert message in broken(tmp_path, SOURCE.replace(change[0], change[1], 1))
    assert broken(tmp_path, SOURCE.replace(change[0], change[1], 1)).startswith(
        "shelter_in_place.toml: ")


def test_a_language_a_named_person_reviewed_is_not_machine_translated(tmp_path):
    text = SOURCE.replace('[es]\nreviewed = "machine"',
                          '[es]\nreviewed = { by = "Ana Pérez", on = 2026-03-01 }')
    (tmp_path / "shelter_in_place.toml").write_text(text, encoding="utf-8")
    template = template_files.load(tmp_path)["shelter_in_place"]
    assert alert_templates.api_item(template)["reviewed"]["es"] is True
    filled = alert_templates.fill(template, {"area": "Riverside"}, SETTINGS, NOW)
    assert "es" not in filled.machine_translated and "fr" in filled.machine_translated
