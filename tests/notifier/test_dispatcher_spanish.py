"""Every string of the dispatcher pages (admin_ui) has a Spanish translation that keeps its placeholders."""
from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from notifier import i18n
from notifier.config import ROOT

METHODS = [("admin_ui/**.py", "python"), ("admin_ui/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted() -> dict:
    """msgid (or (singular, plural)) -> first place it is used."""
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(ROOT), METHODS):
        if isinstance(message, (tuple, list)):
            message = tuple(message[:2])
        found.setdefault(message, f"{filename}:{lineno}")
    assert found, "no admin_ui string was extracted"
    return found


@pytest.fixture(scope="module")
def spanish() -> dict:
    """Every es catalog merged as notifier.i18n merges them (later files win): msgid -> msgstr."""
    merged = {}
    for po in sorted((i18n.LOCALES_DIR / "es" / "LC_MESSAGES").glob("*.po")):
        with open(po, "rb") as fp:
            for m in read_po(fp, locale="es"):
                if not m.id:
                    continue
                key = m.id if isinstance(m.id, str) else m.id[0]
                merged[key] = (m.id, m.string, m.fuzzy)
    return merged


def test_every_dispatcher_string_has_a_spanish_translation(extracted, spanish):
    missing = []
    for message, where in extracted.items():
        key = message if isinstance(message, str) else message[0]
        entry = spanish.get(key)
        if entry is None:
            missing.append(f"{key!r} ({where})")
            continue
        _id, string, fuzzy = entry
        strings = [string] if isinstance(string, str) else list(string)
        if fuzzy or not strings or not all(s and s.strip() for s in strings):
            missing.append(f"{key!r} ({where})")
        elif isinstance(message, tuple) and (isinstance(string, str) or len(strings) < 2):
            missing.append(f"{key!r} ({where}): plural forms missing")
    assert not missing, f"{len(missing)} dispatcher strings lack Spanish:\n" + "\n".join(missing)


def test_spanish_keeps_the_placeholders_of_every_dispatcher_string(extracted, spanish):
    wrong = []
    for message, where in extracted.items():
        key = message if isinstance(message, str) else message[0]
        entry = spanish.get(key)
        if entry is None:
            continue  # reported by the test above
        _id, string, _fuzzy = entry
        if isinstance(message, str):
            pairs = [(message, string if isinstance(string, str) else string[0])]
        else:
            strings = [string] if isinstance(string, str) else list(string)
            pairs = [(message[0], strings[0])] + [(message[1], s) for s in strings[1:]]
        for source, translated in pairs:
            if translated and _placeholders(source) != _placeholders(translated):
                wrong.append(f"{source!r} -> {translated!r} ({where}): "
                             f"{_placeholders(source)} != {_placeholders(translated)}")
    assert not wrong, f"{len(wrong)} Spanish strings change placeholders:\n" + "\n".join(wrong)
