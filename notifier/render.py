"""The text each resident receives, and what it costs as SMS (encoding and segments).

SMS segments cost money and long messages arrive split, so the wrapper around the dispatcher's
text stays short: a status prefix, the agency's name (carriers want the sender identified)
and, when confirmation is asked, one sentence; a machine-translated text says so in a few words.
"""
from __future__ import annotations

from notifier import languages, machine_translation
from notifier.i18n import N_, gettext, pick_language

EXERCISE = N_("[EXERCISE]")
TEST = N_("[TEST]")
# Translators: %(yes)s is the language's own YES word (notifier.languages), accepted back.
CONFIRM = N_("Reply %(yes)s to confirm.")
STATUS_PREFIX = {"Exercise": EXERCISE, "Test": TEST}
# A follow-up says first what it is, so an all-clear is never read as the danger again.
ALL_CLEAR = N_("[ALL CLEAR]")
UPDATE = N_("[UPDATE]")
MSG_TYPE_PREFIX = {"Cancel": ALL_CLEAR, "Update": UPDATE}

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + one septet).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM_SINGLE, GSM_MULTI = 160, 153  # septets: a multi-part segment loses 7 to its header
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units


def message_language(alert, language: str, settings) -> str:
    """The tag of the alert text someone who wants `language` receives."""
    return pick_language(list(alert.messages), language, settings.default_language)


def render_sms(alert, language: str, settings, agency: bool = True) -> str:
    """The SMS for a resident wanting `language`: prefix, agency, the chosen text, confirm line.

    Everything added is in the language of the text chosen, so nobody gets a mixed message.
    """
    chosen = message_language(alert, language, settings)
    parts = []
    prefix = STATUS_PREFIX.get(alert.status)
    if prefix:
        parts.append(gettext(chosen, prefix))
    marker = MSG_TYPE_PREFIX.get(getattr(alert, "msg_type", None))
    if marker:
        parts.append(gettext(chosen, marker))
    text = alert.messages[chosen].strip()
    if agency and settings.agency_name:
        text = f"{settings.agency_name}: {text}"
    parts.append(text)
    if machine_translation.is_marked(alert, chosen):
        parts.append(machine_translation.note(chosen))
    if alert.confirm:
        parts.append(gettext(chosen, CONFIRM) % {"yes": languages.reply_words(chosen)["yes"]})
    return " ".join(parts)


def _units(text: str) -> tuple[str, list[int]]:
    """The encoding SMS would use for `text` and the cost of each character in its units."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        return "GSM-7", [2 if ch in GSM_EXTENSION else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # surrogate pairs


def sms_info(text: str) -> dict:
    """{"encoding": "GSM-7"|"UCS-2", "segments": n, "characters": n}.

    `characters` counts what limits a segment: septets for GSM-7 (€, [, ] … take two) and
    UTF-16 code units for UCS-2. One character outside GSM 03.38, even a non-breaking space,
    makes the whole message UCS-2. Segments never split an escape sequence or a surrogate pair.
    """
    encoding, costs = _units(text)
    single, multi = (GSM_SINGLE, GSM_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    total = sum(costs)
    if total <= single:
        segments = 1 if total else 0
    else:
        segments, used = 1, 0
        for cost in costs:
            if used + cost > multi:
                segments, used = segments + 1, 0
            used += cost
    return {"encoding": encoding, "segments": segments, "characters": total}


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force `text` into UCS-2, in order of appearance."""
    return list(dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENSION))
