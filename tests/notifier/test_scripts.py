"""Direction and fonts per language: rtl for Arabic, auto when unknown, each script's fonts."""
from __future__ import annotations

import pytest

from notifier import scripts
from notifier.config import ROOT
from notifier.languages import LANGUAGES


@pytest.mark.parametrize("tag, direction", [
    ("ar", "rtl"), ("ar-EG", "rtl"), ("he", "rtl"), ("fa", "rtl"), ("ur", "rtl"),
    ("en", "ltr"), ("zh-Hant", "ltr"), ("zh-TW", "ltr"), ("hi", "ltr"), ("en-GB", "ltr"),
    ("", "auto"), (None, "auto"), ("qq-zz", "auto"), ("not a tag", "auto"),
])
def test_the_direction_of_a_language(tag, direction):
    assert scripts.text_dir(tag) == direction


def test_every_language_of_the_table_has_a_known_direction():
    assert {row.tag: scripts.text_dir(row.tag) for row in LANGUAGES if row.rtl} == {"ar": "rtl"}
    assert all(scripts.text_dir(row.tag) in ("ltr", "rtl") for row in LANGUAGES)


def test_han_text_lists_its_own_fonts_first_so_each_gets_its_glyphs():
    traditional = scripts.font_family("zh-Hant")
    assert traditional.startswith('"PingFang TC", "Microsoft JhengHei", "Noto Sans CJK TC"')
    assert scripts.font_family("zh-TW") == traditional
    assert scripts.font_family("zh-Hans").startswith('"PingFang SC", "Microsoft YaHei"')
    assert scripts.font_family("ja").startswith('"Hiragino Sans"')
    assert traditional.endswith("sans-serif")


def test_indic_and_arabic_text_get_their_scripts_fonts_after_the_latin_ones():
    assert scripts.font_family("hi") == ('Arial, Helvetica, "Noto Sans Devanagari", '
                                         '"Nirmala UI", "Kohinoor Devanagari", Mangal, sans-serif')
    assert '"Noto Sans Bengali", "Nirmala UI"' in scripts.font_family("bn")
    assert '"Noto Sans Arabic"' in scripts.font_family("ar")
    assert scripts.font_family("en") == "Arial, Helvetica, sans-serif"
    assert scripts.font_family(None) == "Arial, Helvetica, sans-serif"


def test_the_pages_font_sheet_is_written_from_the_table():
    sheet = (ROOT / "admin_ui" / "static" / "css" / "fonts.css").read_text(encoding="utf-8")
    assert sheet == scripts.fonts_css(), "run: python -c 'from notifier.scripts import " \
        "fonts_css; print(fonts_css(), end=\"\")' > admin_ui/static/css/fonts.css"
    assert '[lang|="zh-Hant"], [lang|="zh-Hant"] body { font-family: "PingFang TC"' in sheet
