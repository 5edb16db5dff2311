"""The reach preview (DESIGN §4): the residents the fan-out would reach, counted without sending.

`notifier.reach` finds them (with the fan-out's rule, on `notifier.reach_cache`'s arrays rather
than a million rows read per preview); here numpy counts them per language, channel preference
and address, with the fan-out's own rules (`audience.Rules`) turning groups into deliveries, so
the numbers are the fan-out's. The area's own checks run beside, on a read-only connection.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from notifier import broadcast, geo, machine_translation, reach_cache, topics
from notifier.audience import ADDRESS_OF, RESIDENT_CHANNELS, Rules
from notifier.i18n import normalize
from notifier.preview_channels import channel_modes, channel_warnings, sms_cost
from notifier.preview_languages import fixed_texts_in_english, language_warnings, resident_languages
from notifier.models import utcnow
from notifier.preview_area import area_warnings as check_area
from notifier.preview_quiet import Waiting, capped_ids
from notifier.reach import Reach, only, resolve
from notifier.reach_cache import View
from notifier.render import render_sms, sms_info
from notifier.render_voice import spoken_language, voice_supported
from notifier.text_fit import sms_warnings, text_fit


def preview(session: Session, alert, settings, now: datetime | None = None) -> dict:
    """The DESIGN §4 preview: residents, deliveries per channel, languages (of the texts, and of
    the residents: who gets their own and who a fallback), reasons, km², warnings; and (§12)
    the deliveries that would wait for quiet hours at `now` (the caller's clock) and the
    residents the daily limit of routine messages would skip.

    Counts the very residents `iter_recipients` would yield, with numpy over their ids rather
    than a Python loop per resident. Raises InvalidInput when the area is invalid.
    """
    now = now or utcnow()
    area = geo.parse_area(alert.area)
    rules = Rules(alert, settings)
    with ThreadPoolExecutor(max_workers=2) as pool:
        side = _beside(session, pool)
        cache = reach_cache.view(session)
        area_check = side(check_area, area, None if area.everyone else cache.unplaced())
        reach = resolve(session, alert, area, cache)
        capped = capped_ids(session, alert, settings, reach, now)
        groups = _groups(cache, reach, rules, capped)
        area_warnings, larger = area_check()
    waiting = Waiting(alert, settings, now)
    deliveries = dict.fromkeys(RESIDENT_CHANNELS, 0)
    opted_out: Counter = Counter()
    pairs: Counter = Counter()  # (text language, resident language) → residents reached
    called: Counter = Counter()  # resident language → residents phoned
    texted: Counter = Counter()  # text language → SMS sent
    recipients = with_any = 0
    for (language, preferred, phone, email, quiet, opted), n in groups.items():
        took = [c for c in rules.order(preferred) if (phone if ADDRESS_OF[c] == "phone" else email)]
        if n <= 0 or not took:
            continue
        with_any += n
        for channel in took:
            (opted_out if channel in opted else deliveries)[channel] += n
            if channel not in opted:
                waiting.add(quiet, channel, n)
        if any(channel not in opted for channel in took):
            recipients += n
            pairs[rules.language(language)] += n
        if "voice" in took and "voice" not in opted:
            called[normalize(language)] += n
        if "sms" in took and "sms" not in opted:
            texted[rules.language(language)[0]] += n
    languages: Counter = Counter()
    for (text_language, _resident_language), n in pairs.items():
        languages[text_language] += n
    readers = resident_languages(pairs)
    texts = {tag: render_sms(alert, tag, settings) for tag in alert.messages}
    fit = text_fit(alert, settings)
    warnings = _warnings(alert, reach, recipients, with_any, opted_out, languages)
    warnings += language_warnings(readers)
    warnings += area_warnings + sms_warnings(alert, texts, fit)
    warnings += _voice_warnings(alert, called, settings)
    topic, topic_warnings = topics.preview_topic(session, alert, reach.count)
    warnings += waiting.warning()
    if capped.size:
        warnings.append(f"{capped.size} resident(s) already had {settings.max_routine_per_day} "
                        "routine message(s) today: their deliveries would be skipped "
                        "(MAX_ROUTINE_PER_DAY).")
    warnings = (channel_warnings(alert, settings) + machine_translation.preview_warnings(alert)
                + topic_warnings + warnings)
    km2 = geo.area_km2(reach.area) + sum(geo.geometry_km2(z) for z in reach.zone_geometries)
    return {
        "recipients": recipients,
        "deliveries": deliveries,
        "languages": dict(languages.most_common()),
        "resident_languages": readers,
        "fixed_texts_in_english": fixed_texts_in_english(readers),
        "sms": {tag: sms_info(text) for tag, text in texts.items()},
        # Per language: plain punctuation's offer, WEA lengths, the voice (notifier.text_fit).
        "text_fit": fit,
        "warnings": warnings,
        "reasons": {"location": reach.by_location, "zone": reach.by_zone,
                    "everyone": reach.by_everyone},
        "area_km2": round(km2, 3),
        "larger_than_any_zone": larger,
        "channels": channel_modes(alert, settings),
        "sms_cost": sms_cost(texts, texted, settings),
        "posts": broadcast.planned_posts(session, alert, settings),
        # The topic, its followers, and whether only they are reached (Severe/Extreme: all).
        "topic": topic,
        # Of `deliveries`, those that would wait for quiet hours to end, and the last end.
        **waiting.as_dict(),
        "skipped_daily_limit": int(capped.size),
    }


def _beside(session: Session, pool: ThreadPoolExecutor):
    """side(fn, *args) starts fn(connection, *args) and returns a callable giving its result.

    Read-only sessions (the API's preview) run it on a connection of its own in `pool`; any
    other session might hold uncommitted rows another connection cannot see, so it runs there
    and then, on the session's own connection.
    """
    bind = session.get_bind()
    if not bind.get_execution_options().get("readonly"):
        def inline(fn, *args):
            value = fn(session.connection(), *args)
            return lambda: value
        return inline

    def own_connection(fn, *args):
        with bind.connect() as conn:
            return fn(conn, *args)

    def side(fn, *args):
        return pool.submit(own_connection, fn, *args).result
    return side


def _groups(cache: View, reach: Reach, rules: Rules, capped: np.ndarray) -> Counter:
    """(language, preference JSON, has phone, has email, quiet hours, opted-out channels) →
    residents reached.

    The cache's group of each reached resident, counted with numpy (the fan-out's rows hold
    the same columns); the few opted-out residents are then moved from their plain group to
    one naming the channels they left, and those the daily limit skips (`capped`) out of it.
    """
    groups: Counter = Counter()
    if not rules.channels or not reach.count:
        return groups
    residents = cache.groups()
    for *plain, n in residents.count(_reached(cache, reach, None)):
        groups[tuple(plain) + (frozenset(),)] += n
    left = _opted_out(cache, reach, rules)
    for plain, channels in left.values():
        groups[plain + (frozenset(),)] -= 1
        groups[plain + (frozenset(channels),)] += 1
    for sub_id, plain in residents.keys_of(_reached(cache, reach, capped)).items():
        groups[plain + (frozenset(left[sub_id][1]) if sub_id in left else frozenset(),)] -= 1
    return groups


def _reached(cache: View, reach: Reach, ids: np.ndarray | None) -> np.ndarray | None:
    """The reached ones among `ids` (sorted; None: everyone), None meaning every resident."""
    if reach.ids is None:
        if reach.test_only:
            return cache.testers() if ids is None else only(ids, cache.testers())
        return ids
    return reach.ids if ids is None else only(ids, reach.ids)


def _opted_out(cache: View, reach: Reach, rules: Rules) -> dict[int, tuple[tuple, set[str]]]:
    """Reached residents on the opt-out ledger for an alert channel → (their group, channels)."""
    left: dict[int, set[str]] = {}
    opted = cache.opted_out()
    for channel in rules.channels:
        if channel in opted:
            for sub_id in _reached(cache, reach, opted[channel]).tolist():
                left.setdefault(sub_id, set()).add(channel)
    if not left:
        return {}
    ids = np.fromiter(left, dtype=np.int64, count=len(left))
    ids.sort()
    return {sub_id: (plain, left[sub_id]) for sub_id, plain in cache.groups().keys_of(ids).items()}


def _warnings(alert, reach: Reach, recipients: int, with_any: int, opted_out: Counter,
              languages: Counter) -> list[str]:
    who = "member of the test group" if reach.test_only else "resident"
    if reach.count == 0:
        return [f"The area reaches no {who}."
                + (" Exercise and Test alerts go only to the test group." if reach.test_only else "")]
    out = []
    if reach.test_only:
        out.append(f"{alert.status} alert: only the {reach.count} members of the test group "
                   "it reaches will receive it.")
    missing = reach.count - with_any
    if missing:
        out.append(f"{missing} resident(s) reached take none of the alert's channels "
                   "(by their choice or for want of an address).")
    for channel, n in sorted(opted_out.items()):
        out.append(f"{n} resident(s) opted out of {channel} are left out.")
    for tag in alert.messages:
        if recipients and not languages.get(tag):
            out.append(f"Nobody reached gets the {tag!r} text.")
    return out


def _voice_warnings(alert, called: Counter, settings) -> list[str]:
    """Residents whose language Twilio cannot speak hear another of the alert's texts."""
    out = []
    for language, n in sorted(called.items()):
        if not voice_supported(language):
            heard = spoken_language(alert, language, settings)
            out.append(f"{n} resident(s) called in {language!r} hear the {heard!r} text: "
                       f"Twilio has no {language!r} voice.")
    return out
