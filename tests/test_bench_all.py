"""`make bench-all`: the one table, the README block, and every benchmark taking the flags it is given."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import all as bench_all
from bench import results, table

ROOT = Path(__file__).resolve().parent.parent


def test_each_figure_is_shown_beside_its_ceiling_as_a_share(tmp_path):
    out = tmp_path / "r.jsonl"
    results.record(out, bench="import", figure="CLI import", value=12_000, unit="rows/s",
                   ceiling=48_000, ceiling_label="raw COPY", target="≥ 10,000/s", met=True)
    results.record(out, bench="preview", figure="polygon", value=0.8, unit="s", ceiling=0.2,
                   ceiling_label="raw shapely", target="≤ 0.5 s", met=False)
    text = table.render(results.read(out), "a test machine", "today")
    lines = text.splitlines()
    assert lines[0] == "Measured today on a test machine."
    assert "| import | CLI import | SQLite | 12,000 rows/s | 48,000 rows/s (raw COPY) | 25% |" in text
    # a time: the ceiling's time over ours
    assert "| preview | polygon | SQLite | 0.8 s | 0.2 s (raw shapely) | 25% | ≤ 0.5 s | **missed** |" in text


def test_a_missing_results_file_is_no_figures(tmp_path):
    assert results.read(tmp_path / "absent.jsonl") == []


def test_the_readme_block_is_replaced_and_nothing_else():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(table.README_START) == 1 and readme.count(table.README_END) == 1
    replaced = table.replace_block(readme, "| a | table |\n")
    assert f"{table.README_START}\n| a | table |\n{table.README_END}" in replaced
    before, after = readme.split(table.README_START)[0], readme.split(table.README_END)[1]
    assert replaced.startswith(before) and replaced.endswith(after)
    with pytest.raises(ValueError):
        table.replace_block("no markers here", "x")


@pytest.mark.parametrize("name", sorted(bench_all.BENCHES))
def test_every_benchmark_takes_the_flags_bench_all_passes(name):
    script, full, quick, databases = bench_all.BENCHES[name]
    path = ROOT / "bench" / script
    assert path.exists(), path
    shown = subprocess.run([sys.executable, str(path), "--help"], capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    flags = {arg for arg in [*full, *quick, "--results"] if arg.startswith("--")}
    if "postgresql" in databases:
        flags.add("--database")
    missing = sorted(flag for flag in flags if flag not in shown.stdout)
    assert not missing, f"bench/{script} --help does not list {missing}"


def test_a_quick_run_writes_one_table_with_the_same_runs_ceiling(tmp_path):
    out = tmp_path / "figures.jsonl"
    ran = subprocess.run([sys.executable, "bench/all.py", "--quick", "--only", "email",
                          "--no-postgres", "--results", str(out)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["bench"] for row in rows] == ["email"]
    assert rows[0]["value"] > 0 and rows[0]["ceiling"] > 0
    assert "| email | emails rendered and sent" in ran.stdout
    assert "(--quick sizes: not the targets' sizes)" in ran.stdout


def test_an_unknown_benchmark_is_refused_with_the_choices():
    ran = subprocess.run([sys.executable, "bench/all.py", "--only", "nope"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert ran.returncode == 2
    assert "unknown benchmark nope" in ran.stderr and "preview" in ran.stderr


def test_a_small_time_keeps_its_digits():
    assert [table.number(v) for v in (0.0012, 0.084, 1.9, 12_000)] == ["0.0012", "0.084", "1.9",
                                                                      "12,000"]
