"""The one table `make bench-all` prints, and the README block it can replace."""
from __future__ import annotations

import re

README_START = "<!-- bench-all: start (written by `make bench-all ARGS=--readme`) -->"
README_END = "<!-- bench-all: end -->"
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "-": "—"}


def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and 0 < abs(value) < 1:
        return f"{value:.2g}"  # a preview's 0.0012 s is not "0 s"
    if isinstance(value, float) and abs(value) < 100:
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return f"{value:,.0f}"


def ratio(row: dict) -> str:
    """The figure as a share of its ceiling: rates over ceiling, times ceiling over figure."""
    value, ceiling = row.get("value"), row.get("ceiling")
    if not value or not ceiling:
        return "—"
    share = value / ceiling if row.get("unit", "").endswith("/s") else ceiling / value
    return f"{share:.0%}"


def verdict(row: dict) -> str:
    met = row.get("met")
    return "met" if met is True else "**missed**" if met is False else "—"


def render(rows: list[dict], machine: str, when: str) -> str:
    """Markdown: one line per figure, each beside the ceiling measured in the same run."""
    lines = [f"Measured {when} on {machine}.", "",
             "| benchmark | figure | database | measured | ceiling (same run) | share of ceiling "
             "| target | |",
             "|---|---|---|---:|---:|---:|---|---|"]
    for row in rows:
        unit = row.get("unit", "")
        measured = f"{number(row.get('value'))} {unit}".strip()
        ceiling = "—"
        if row.get("ceiling") is not None:
            ceiling = f"{number(row['ceiling'])} {unit} ({row.get('ceiling_label') or 'ceiling'})"
        figure = row["figure"] + (f" ({row['note']})" if row.get("note") else "")
        lines.append(f"| {row['bench']} | {figure} | "
                     f"{DATABASES.get(row.get('database', ''), row.get('database', ''))} | "
                     f"{measured} | {ceiling} | {ratio(row)} | {row.get('target', '')} | "
                     f"{verdict(row)} |")
    return "\n".join(lines) + "\n"


def replace_block(readme: str, table: str) -> str:
    """`readme` with the text between the bench-all markers replaced by `table`."""
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"README has no {README_START!r} … {README_END!r} block")
    return pattern.sub(lambda _: f"{README_START}\n{table}{README_END}", readme, count=1)
