"""Times written for residents: each language's CLDR short time, with the date when it is not
today, in the agency's time zone (DESIGN §11: a template's `time` params)."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time

from notifier import languages

# CLDR writes "2:30 PM" with a narrow no-break space: one such character turns an English SMS
# into UCS-2 (70 characters a segment instead of 160).
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})
# Tags whose CLDR data babel files under another code (Tagalog is CLDR's Filipino).
_BABEL_CODES = {"tl": "fil"}
# CLDR has no Haitian Creole month or weekday names (babel's `ht` writes "M11 22, Sun"); these
# are the spellings of the Akademi Kreyòl Ayisyen, Monday first as `datetime.weekday()` counts.
_HT_DAYS = ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch")
_HT_MONTHS = ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm",
              "oktòb", "novanm", "desanm")


@lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    """The babel locale for a language tag: the languages table's catalog id (zh-Hant →
    zh_Hant, tl → fil), else the tag itself, else English."""
    row = languages.get(tag)
    code = row.catalog if row else (tag or "en").replace("-", "_")
    try:
        return Locale.parse(_BABEL_CODES.get(code, code))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def _date(local: datetime, locale: Locale, with_year: bool) -> str:
    if locale.language == "ht":
        day = f"{_HT_DAYS[local.weekday()]} {local.day} {_HT_MONTHS[local.month - 1]}"
        return f"{day} {local.year}" if with_year else day
    # Weekday and month name, never a numeric date: 11/12 reads as two dates across languages.
    return format_skeleton("yMMMEd" if with_year else "MMMEd", local, locale=locale)


def written(moment: datetime, tag: str, zone: ZoneInfo, now: datetime) -> str:
    """`moment` (aware) as `tag`'s residents read it in `zone`: "2:30 PM" today, "Sun, Nov 22,
    2:30 PM" on another day (the year too in another year than `now`'s)."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone)
    locale = babel_locale(tag)
    time = format_time(local, "short", tzinfo=zone, locale=locale)
    if local.date() == today.date():
        return time.translate(_SPACES)
    date = _date(local, locale, with_year=local.year != today.year)
    # How the language joins a date and a time ("{1}, {0}" in English, "{0} {1}" in Vietnamese).
    pattern = str(locale.datetime_formats["medium"]).replace("'", "")
    return pattern.replace("{0}", time).replace("{1}", date).translate(_SPACES)
