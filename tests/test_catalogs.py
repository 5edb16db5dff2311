"""The catalogs are complete and current (issue 13): what `make i18n` would change, CI refuses.

- `locales/messages.pot` holds exactly what `pybabel extract` finds in the code today;
- every language of the table has one `messages.po` with exactly those messages, none fuzzy,
  none empty (every plural form), each keeping its placeholders;
- every translation says who reviewed it (`# reviewed: <name>`, `machine` or `unreviewed`).
"""
from __future__ import annotations

import io
import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from notifier import i18n, languages
from notifier.config import ROOT

# The same map and keywords as the Makefile's `i18n` target.
METHODS = [("notifier/**.py", "python"), ("channels/**.py", "python"),
           ("workers/**.py", "python"), ("admin_ui/**.py", "python"),
           ("admin_ui/templates/**.html", "jinja2")]
KEYWORDS = ["gettext:2,2t", "N_"]
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]|\{\w*\}")
REVIEWED = re.compile(r"^reviewed: (machine|unreviewed|[\w .@'-]{2,80})$")
TABLE = [row for row in languages.LANGUAGES if row.tag != "en"]


def _key(message_id) -> tuple[str, ...]:
    return (message_id,) if isinstance(message_id, str) else tuple(message_id[:2])


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str, ...]]:
    found = set()
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(KEYWORDS))
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=keywords, comment_tags=("Translators:",),
            options_map={"**.py": {}}, strip_comment_tags=True):
        if message:
            found.add(_key(message))
    assert len(found) > 500, "extraction found almost nothing: is babel.cfg's map still right?"
    return found


@pytest.fixture(scope="module")
def template() -> set[tuple[str, ...]]:
    with open(i18n.LOCALES_DIR / "messages.pot", "rb") as fp:
        return {_key(m.id) for m in read_po(fp) if m.id}


def _catalog(row):
    with open(i18n.catalog_path(row), "rb") as fp:
        return read_po(fp, locale=row.catalog)


def test_the_template_holds_exactly_what_the_code_has(extracted, template):
    added, gone = extracted - template, template - extracted
    assert not added and not gone, (
        "locales/messages.pot is stale: run `make i18n`, translate, and mark the new entries.\n"
        f"in the code, not the template: {sorted(added)[:20]}\n"
        f"in the template, not the code: {sorted(gone)[:20]}")


@pytest.mark.parametrize("row", TABLE, ids=[row.tag for row in TABLE])
def test_each_language_has_every_message_translated_once_and_reviewed_or_marked(row, template):
    catalog = _catalog(row)
    keys = {_key(m.id) for m in catalog if m.id}
    assert keys == template, (f"{row.catalog}: run `make i18n`; missing {sorted(template - keys)[:10]}, "
                              f"obsolete {sorted(keys - template)[:10]}")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not strings or not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
        if isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, not {catalog.num_plurals}: {message.id!r}")
        marks = [c for c in message.user_comments if c.startswith("reviewed:")]
        if len(marks) != 1 or not REVIEWED.match(marks[0]):
            problems.append(f"no `# reviewed: <who>|machine|unreviewed` mark: {message.id!r}")
    assert not problems, f"{row.catalog}: {len(problems)} problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("row", TABLE, ids=[row.tag for row in TABLE])
def test_each_translation_keeps_the_placeholders_of_its_message(row):
    wrong = []
    for message in _catalog(row):
        if not message.id:
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        allowed = {tuple(sorted(PLACEHOLDER.findall(s))) for s in sources}
        for translated in strings:
            # A plural form may drop the count (Arabic's dual and Japanese's single form may not).
            got = tuple(sorted(PLACEHOLDER.findall(translated or "")))
            if got not in allowed:
                wrong.append(f"{message.id!r} -> {translated!r}: {got} not in {sorted(allowed)}")
    assert not wrong, f"{row.catalog}: placeholders differ:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize("row", TABLE, ids=[row.tag for row in TABLE])
def test_each_catalog_compiles(row):
    buffer = io.BytesIO()
    write_mo(buffer, _catalog(row))
    assert len(buffer.getvalue()) > 1000


def test_every_language_of_the_table_has_a_catalog_and_nothing_else_does():
    on_disk = {p.parent.parent.name for p in i18n.LOCALES_DIR.glob("*/LC_MESSAGES/*.po")}
    assert on_disk == {row.catalog for row in TABLE}
    assert i18n.catalog_languages() == [row.tag for row in TABLE]
