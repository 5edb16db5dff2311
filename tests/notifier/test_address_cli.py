"""`python -m notifier import-addresses FILE.csv` run as a real process."""
from __future__ import annotations

import os

from sqlalchemy import select

from notifier.address_models import AddressPoint
from notifier.db import session_scope
from notifier.models import Zone
from tests.notifier.test_cli import assert_one_line_error, count, run_cli

GOOD = ("address,lat,lon,zone\n"
        "12 Main St,42.36,-71.06,beat-1\n"
        "14 Main St,42.37,-71.07,\n"
        "\"3 Rue de l'Église, Apt 2\",45.1,2.2,\n")


def points(db_url: str) -> dict:
    with session_scope(db_url, readonly=True) as session:
        return {p.address: (p.lat, p.lon, p.zone_code)
                for p in session.scalars(select(AddressPoint))}


def add_zone(db_url: str, code: str) -> None:
    with session_scope(db_url) as session:
        session.add(Zone(code=code, name=code.title()))


def test_a_good_file_is_imported_and_counted(env, db_url, tmp_path):
    add_zone(db_url, "beat-1")
    path = tmp_path / "addresses.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = run_cli(env, "import-addresses", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("imported 3, rejected 0")
    assert points(db_url) == {"12 Main St": (42.36, -71.06, "beat-1"),
                              "14 Main St": (42.37, -71.07, None),
                              "3 Rue de l'Église, Apt 2": (45.1, 2.2, None)}


def test_bad_rows_are_listed_by_number_with_the_reason_and_skipped(env, db_url, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("address,lat,lon,zone\n"
                    "1 Good Rd,42,-71,\n"
                    ",42,-71,\n"
                    "2 Far Rd,95,-71,\n"
                    "3 Odd Rd,42,-71,beat-9\n", encoding="utf-8")
    result = run_cli(env, "import-addresses", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "row 2: missing address",
        "row 3: bad latitude '95' (must be between -90 and 90)",
        "row 4: unknown zone code 'beat-9'",
        "imported 1, rejected 3 (1 new points, 0 updated)"]
    assert count(db_url, AddressPoint) == 1


def test_a_file_without_the_zone_column_is_accepted(env, db_url, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("address,lat,lon\n1 Good Rd,42,-71\n", encoding="utf-8")
    result = run_cli(env, "import-addresses", str(path))
    assert result.returncode == 0 and "imported 1, rejected 0" in result.stdout
    assert points(db_url) == {"1 Good Rd": (42.0, -71.0, None)}


def test_importing_again_updates_the_rows_instead_of_adding_them(env, db_url, tmp_path):
    add_zone(db_url, "beat-1")
    path = tmp_path / "addresses.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert run_cli(env, "import-addresses", str(path)).returncode == 0
    path.write_text("address,lat,lon,zone\n12 MAIN ST.,42.5,-71.5,\n14 main st,42.37,-71.07,beat-1\n",
                    encoding="utf-8")
    again = run_cli(env, "import-addresses", str(path))
    assert "imported 2, rejected 0 (0 new points, 2 updated)" in again.stdout
    assert points(db_url) == {"12 MAIN ST.": (42.5, -71.5, None),
                              "14 main st": (42.37, -71.07, "beat-1"),
                              "3 Rue de l'Église, Apt 2": (45.1, 2.2, None)}


def test_a_file_that_cannot_be_read_stops_with_one_line_and_a_non_zero_exit(env, tmp_path):
    assert "no such file" in assert_one_line_error(
        run_cli(env, "import-addresses", str(tmp_path / "missing.csv")))
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("address,lat,lon\n3 Rue de l'\xc9glise,45,2\n".encode("latin-1"))
    assert "UTF-8" in assert_one_line_error(run_cli(env, "import-addresses", str(latin)))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("street,latitude,longitude\n1 Good Rd,42,-71\n", encoding="utf-8")
    assert "address, lat and lon" in assert_one_line_error(
        run_cli(env, "import-addresses", str(wrong)))
    assert "folder" in assert_one_line_error(run_cli(env, "import-addresses", str(tmp_path)))
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.csv"
        locked.write_text("address,lat,lon\n", encoding="utf-8")
        locked.chmod(0)
        assert "not allowed" in assert_one_line_error(run_cli(env, "import-addresses", str(locked)))


def test_a_thousand_rejected_rows_are_listed_and_the_rest_counted(env, db_url, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("address,lat,lon\n" + "".join(f"{n} Far Rd,95,0\n" for n in range(1005)),
                    encoding="utf-8")
    result = run_cli(env, "import-addresses", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert sum(line.startswith("row ") for line in lines) == 1000
    assert lines[-2:] == ["… and 5 more rejected rows",
                          "imported 0, rejected 1005 (0 new points, 0 updated)"]
