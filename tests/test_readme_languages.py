"""The README's languages table says what the catalogs say (issue 13: "the README lists each
language's state honestly"): a review mark changed in a catalog must change the README too."""
from __future__ import annotations

import re

from notifier import catalog_state, languages
from notifier.config import ROOT


def _rows() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Languages", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `([\w-]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_readme_lists_every_language_with_its_catalog_state():
    rows = _rows()
    assert set(rows) == {row.tag for row in languages.LANGUAGES if row.tag != "en"}
    for state in catalog_state.states():
        row = languages.BY_TAG[state.tag]
        english, said, direction = rows[state.tag][:3]
        assert english == row.english
        assert said == catalog_state.summary(state), (
            f"README: {state.tag} says {said!r}; paste `scripts/languages_table.py`'s table")
        assert direction == ("right to left" if row.rtl else "left to right")


def test_the_summary_counts_what_is_marked():
    state = catalog_state.LanguageState("xx", "X", 10, 9, 2, 7, 1)
    assert catalog_state.summary(state) == "9 of 10 translated; 7 machine, 1 unreviewed, 2 reviewed"
