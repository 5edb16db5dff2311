"""Formula-safe CSV cells and chunked streaming."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from admin_ui.csv_export import iter_csv, safe_cell


@pytest.mark.parametrize("raw, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+16175550100", "'+16175550100"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), (None, ""), (3, "3"), (-3, "-3"),
    (datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc), "2026-11-22T06:00:00+00:00"),
])
def test_it_defuses_cells_a_spreadsheet_would_evaluate(raw, cell):
    assert safe_cell(raw) == cell


def test_it_streams_in_chunks_that_join_into_one_valid_csv():
    rows = [(i, f"=cmd{i}", "x,y\n") for i in range(1201)]
    chunks = list(iter_csv(("n", "formula", "text"), rows, flush_every=500))
    assert len(chunks) == 3
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[0] == ["n", "formula", "text"]
    assert parsed[1201] == ["1200", "'=cmd1200", "x,y\n"]
    assert len(parsed) == 1202
