"""Machine-translated alert texts (DESIGN §11): which messages are marked, the note residents
read beside them, the preview's warning, the acceptance an Actual send needs, and what a
translation request asks of a LibreTranslate-compatible server.

The HTTP call itself is `channels.translate`; this module decides, so that the API and the
pages meet the same rule.
"""
from __future__ import annotations

from typing import Callable

from notifier import languages
from notifier.errors import MachineTranslationNotAccepted
from notifier.i18n import N_, gettext, normalize

# Said after a machine-translated text, in that text's language (SMS, email, voice).
# Translators: a short note telling residents that a machine, not a person, translated it.
NOTE = N_("(Automatic translation)")

# translator(text, source code, [target codes]) → {target code: translated text}
Translator = Callable[[str, str, list[str]], dict[str, str]]


def marked(alert) -> list[str]:
    """The tags of the alert's messages marked machine translated, in the messages' order."""
    wanted = {normalize(tag) for tag in (getattr(alert, "machine_translated", None) or ())}
    return [tag for tag in (alert.messages or {}) if normalize(tag) in wanted]


def is_marked(alert, tag: str) -> bool:
    """Whether the message in `tag` (a key of `alert.messages`) was machine translated."""
    return normalize(tag) in {normalize(t) for t in marked(alert)}


def note(tag: str) -> str:
    """The "automatic translation" note in the language `tag`."""
    return gettext(tag, NOTE)


def names(tags: list[str]) -> str:
    """'Spanish (es), German (de)': the languages in English, for API errors and warnings."""
    out = []
    for tag in tags:
        row = languages.get(tag)
        out.append(f"{row.english} ({tag})" if row else tag)
    return ", ".join(out)


def preview_warnings(alert) -> list[str]:
    """The preview's warning naming the machine-translated languages (none when there are none)."""
    tags = marked(alert)
    if not tags:
        return []
    text = (f"Machine translated, not written by a person: {names(tags)}. Have a speaker check "
            f"them; residents read an \"automatic translation\" note with each.")
    if alert.status == "Actual":
        text += " Sending this live alert asks you to accept the machine translations."
    return [text]


def require_acceptance(alert, accepted: bool) -> None:
    """Raise MachineTranslationNotAccepted when an Actual alert with machine-translated messages
    is sent without `accepted`; Exercise and Test reach only the test group and need none."""
    tags = marked(alert)
    if alert.status != "Actual" or accepted or not tags:
        return
    raise MachineTranslationNotAccepted(
        tags, f"machine translations not accepted: the messages in {names(tags)} were machine "
              f"translated; have them checked, then send with "
              f"\"accept_machine_translation\": true")


def audit_details(alert, accepted: bool | None = None) -> dict:
    """What an audit event of `alert` adds: the machine-translated languages and, at a send,
    whether the sender accepted them ({} when none was machine translated)."""
    tags = marked(alert)
    if not tags:
        return {}
    out = {"machine_translated": tags}
    if accepted is not None:
        out["machine_translation_accepted"] = bool(accepted)
    return out


def translate(text: str, source: str, targets: list[str], translator: Translator) -> dict:
    """{"translations": {tag: {"text", "machine": True}}} of `text` from `source` into each of
    `targets` (tags of `notifier.languages`, checked by `schemas.TranslateSchema`), asked of
    `translator` in LibreTranslate's codes (zh-Hant → zt, zh-Hans → zh). The translator raises
    TranslationUnavailable when its server fails."""
    source_code = languages.get(source).translate_code
    codes = {tag: languages.get(tag).translate_code for tag in targets}
    answered = translator(text, source_code, list(codes.values()))
    return {"translations": {tag: {"text": answered[code].strip(), "machine": True}
                             for tag, code in codes.items()}}
