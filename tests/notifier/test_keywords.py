"""notifier.keywords: a whole text is one keyword, whatever its case, accents and punctuation."""
from __future__ import annotations

import pytest

from notifier import keywords as kw
from notifier.keywords import parse


@pytest.mark.parametrize("text, family, languages", [
    ("STOP", kw.OPT_OUT, ()), ("stop.", kw.OPT_OUT, ()), ("  Stop!! ", kw.OPT_OUT, ()),
    ("STOPALL", kw.OPT_OUT, ()), ("stop all", kw.OPT_OUT, ()), ("Unsubscribe", kw.OPT_OUT, ()),
    ("cancel", kw.OPT_OUT, ()), ("END", kw.OPT_OUT, ()), ("quit", kw.OPT_OUT, ()),
    ("REVOKE", kw.OPT_OUT, ()), ("OPTOUT", kw.OPT_OUT, ()), ("opt-out", kw.OPT_OUT, ()),
    ("Opt Out", kw.OPT_OUT, ()),
    ("PARAR", kw.OPT_OUT, ("es", "pt")), ("Cancelar", kw.OPT_OUT, ("es", "pt")),
    ("baja", kw.OPT_OUT, ("es",)), ("ALTO", kw.OPT_OUT, ("es",)),
    ("ARRÊT", kw.OPT_OUT, ("fr",)), ("arret", kw.OPT_OUT, ("fr",)),
    ("停止", kw.OPT_OUT, ("zh-Hans", "zh-Hant", "ja")), ("dừng", kw.OPT_OUT, ("vi",)), ("중지", kw.OPT_OUT, ("ko",)),
    ("стоп", kw.OPT_OUT, ("ru",)), ("إلغاء", kw.OPT_OUT, ("ar",)), ("sispann", kw.OPT_OUT, ("ht",)),
    ("Tigil", kw.OPT_OUT, ("tl",)),
    ("START", kw.OPT_IN, ()), ("unstop", kw.OPT_IN, ()), ("Join", kw.OPT_IN, ()),
    ("subscribe", kw.OPT_IN, ()), ("ALTA", kw.OPT_IN, ("es",)), ("unirse", kw.OPT_IN, ("es",)),
    ("ĐĂNG KÝ", kw.OPT_IN, ("vi",)), ("dang ky", kw.OPT_IN, ("vi",)), ("订阅", kw.OPT_IN, ("zh-Hans",)),
    ("YES", kw.YES, ()), ("yes!", kw.YES, ()), ("Sí", kw.YES, ("es",)), ("si", kw.YES, ("es",)),
    ("OUI", kw.YES, ("fr",)), ("1", kw.CONFIRM, ()), (" 1. ", kw.CONFIRM, ()),
    ("HELP", kw.HELP, ()), ("  Help! ", kw.HELP, ()), ("info?", kw.HELP, ()),
    ("¡AYUDA!", kw.HELP, ("es",)), ("aide", kw.HELP, ("fr",)), ("帮助", kw.HELP, ("zh-Hans",)),
    ("помощь", kw.HELP, ("ru",)), ("Tulong", kw.HELP, ("tl",)),
])
def test_it_reads_each_keyword_family_in_any_case_accent_and_punctuation(text, family, languages):
    parsed = parse(text)
    assert parsed.family == family
    assert parsed.languages == languages


@pytest.mark.parametrize("text, tag", [
    ("ESPAÑOL", "es"), ("ESPANOL", "es"), ("español", "es"), ("English", "en"),
    ("中文", "zh-Hans"), ("繁體中文", "zh-Hant"), ("TIẾNG VIỆT", "vi"), ("tieng viet", "vi"), ("FRANÇAIS", "fr"),
    ("francais", "fr"), ("KREYÒL", "ht"), ("Kreyol", "ht"), ("PORTUGUÊS", "pt"),
    ("portugues", "pt"), ("한국어", "ko"), ("РУССКИЙ", "ru"), ("русский", "ru"),
    ("العربية", "ar"), ("TAGALOG", "tl"), ("Spanish", "es"),
])
def test_it_reads_a_language_name_written_in_that_language(text, tag):
    parsed = parse(text)
    assert (parsed.family, parsed.value, parsed.languages) == (kw.LANGUAGE, tag, (tag,))


@pytest.mark.parametrize("text, zone, languages", [
    ("JOIN beat-3", "beat-3", ()), ("join 02139", "02139", ()), ("Join: BEAT3", "beat3", ()),
    ("ALTA 02139", "02139", ("es",)), ("START 02139-1234", "02139-1234", ()),
])
def test_an_opt_in_word_followed_by_a_code_asks_for_a_zone(text, zone, languages):
    parsed = parse(text)
    assert (parsed.family, parsed.value, parsed.languages) == (kw.JOIN_ZONE, zone, languages)


@pytest.mark.parametrize("text", [
    "", "   ", "!!!", "Is the water safe to drink?", "stop sending me the wrong street",
    "please help", "STOP" * 100, "x" * 5000, "2", "helpme now",
])
def test_anything_else_is_no_keyword(text):
    assert parse(text).family is None


def test_control_characters_and_emoji_around_a_word_are_ignored():
    assert parse("\x00STOP\x07").family == kw.OPT_OUT
    assert parse("🙏 help 🙏").family == kw.HELP
    assert parse("\u200bSTART\u00a0").family == kw.OPT_IN


def test_no_word_belongs_to_two_families():
    seen = {}
    for family, by_language in kw.WORDS.items():
        for words in by_language.values():
            for word in words:
                key = kw.normalize(word)
                assert seen.setdefault(key, family) == family, word
    for names in kw.LANGUAGE_NAMES.values():
        for name in names:
            assert kw.normalize(name) not in seen, name
