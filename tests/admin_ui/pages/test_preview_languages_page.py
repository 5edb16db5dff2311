"""The preview page says plainly, near the top, who does not get the alert in their own language,
and lists every resident language with the text its readers get."""
from __future__ import annotations

import itertools
import re

from notifier.db import session_scope
from notifier.models import Location
from tests.admin_ui.conftest import make_subscriber
from tests.admin_ui.pages.test_alerts import compose

TOWN = {"es-MX": 3, "zh-TW": 2, "zh-Hant": 1, "de": 4, "fil": 1, "en": 2, "sw": 1}
THREE_TEXTS = {"lang_2": "zh-Hans", "text_2": "烧开自来水后再饮用。"}  # with the form's en and es


def settle(settings, town) -> None:
    numbers = itertools.count(300)
    with session_scope(settings.database_url) as session:
        for language, n in town.items():
            for _ in range(n):
                sub = make_subscriber(session, phone=f"+1617555{next(numbers):04d}",
                                      language=language)
                sub.locations.append(Location(lat=42.36, lon=-71.06))


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:li|p|tr)>', html, re.S)
    assert match, f"no {testid} in the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_fallbacks_are_said_first_with_each_language_by_name(signed_in, settings):
    settle(settings, TOWN)
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client, **THREE_TEXTS)}/preview").get_data(as_text=True)
    decision = html.split('data-testid="decision"')[1].split('id="send-h"')[0]
    assert decision.index('data-testid="preview-fallbacks"') < decision.index(
        'data-testid="preview-channels"')
    assert text_of(html, "preview-fallback-de") == \
        "Residents who read Deutsch (de) get the English (en) text: 4"
    assert text_of(html, "preview-fallback-zh-TW") == (
        "Residents who read 中文 (繁體, 台灣) (zh-TW) get the 中文 (简体) (zh-Hans) text (there is "
        "no 中文 (繁體) (zh-Hant) text): 2")
    assert text_of(html, "preview-fallback-fil") == ("Residents who read Filipino (fil) get the "
                                                     "English (en) text (there is no Filipino "
                                                     "(tl) text): 1")
    assert text_of(html, "preview-fallback-zh-Hant") == \
        "Residents who read 中文 (繁體) (zh-Hant) get the 中文 (简体) (zh-Hans) text: 1"
    # Readers of their own language and script are not among the fallbacks.
    assert "preview-fallback-es-MX" not in html and "preview-fallback-en" not in html
    assert text_of(html, "preview-fixed-texts-english") == (
        "Residents whose language has no translation of Tocsin's fixed texts (replies, prefixes, "
        "email framing), which they read in English: 1 (Kiswahili (sw))")


def test_every_resident_language_is_listed_with_the_text_it_gets(signed_in, settings):
    settle(settings, TOWN)
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client, **THREE_TEXTS)}/preview").get_data(as_text=True)
    assert text_of(html, "preview-resident-language-es-MX") == \
        "Español (México) (es-MX) 3 Español (es) yes"
    assert text_of(html, "preview-resident-language-zh-TW") == \
        "中文 (繁體, 台灣) (zh-TW) 2 中文 (简体) (zh-Hans) — there is no 中文 (繁體) (zh-Hant) text yes"
    assert text_of(html, "preview-resident-language-sw") == \
        "Kiswahili (sw) 1 English (en) — there is no Kiswahili (sw) text no"


def test_nothing_is_said_when_everyone_reads_their_own_language(signed_in, settings):
    settle(settings, {"en": 1, "es-MX": 1})
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client)}/preview").get_data(as_text=True)
    assert 'data-testid="preview-fallbacks"' not in html
    assert 'data-testid="preview-resident-language-es-MX"' in html
