"""Print the README's languages table from the catalogs' review marks:
.venv/bin/python scripts/languages_table.py  (paste it under README's "Languages")."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier import catalog_state, languages  # noqa: E402


def table() -> str:
    lines = ["| tag | language | fixed texts (`locales/`) | direction |", "|---|---|---|---|"]
    for state in catalog_state.states():
        row = languages.BY_TAG[state.tag]
        direction = "right to left" if row.rtl else "left to right"
        lines.append(f"| `{state.tag}` | {state.english} | {catalog_state.summary(state)} | {direction} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
