"""`python -m notifier …` run as a real process against the test's database."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import phonenumbers
import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import create_engine, func, inspect, select

from notifier import accounts, demo, geo
from notifier.db import session_scope
from notifier.models import Subscriber, SubscriberGroup, User, Zone

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def run_cli(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([sys.executable, "-m", "notifier", *args], cwd=ROOT, env=full_env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def count(db_url: str, model, *where) -> int:
    with session_scope(db_url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_init_db_migrates_a_fresh_sqlite_file(env, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'tocsin.db'}"
    result = run_cli({**env, "DATABASE_URL": url}, "init-db")
    assert result.returncode == 0, result.stderr
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"alembic_version", "users", "subscribers", "alerts", "deliveries"} <= tables
    assert run_cli({**env, "DATABASE_URL": url}, "init-db").returncode == 0  # idempotent


def test_create_user_reads_the_password_from_stdin_and_refuses_a_duplicate(env, db_url):
    first = run_cli(env, "create-user", "dana", "--role", "dispatcher", "--password-stdin",
                    stdin="correct horse battery\n")
    assert first.returncode == 0, first.stderr
    with session_scope(db_url) as session:
        user = accounts.check_password(session, "dana", "correct horse battery")
        assert user is not None and user.role == "dispatcher"

    again = run_cli(env, "create-user", "dana", "--role", "admin", "--password-stdin",
                    stdin="another password\n")
    assert "already exists" in assert_one_line_error(again)
    assert count(db_url, User) == 1


def test_create_user_refuses_a_short_password_without_a_traceback(env, db_url):
    result = run_cli(env, "create-user", "eve", "--role", "auditor", "--password-stdin",
                     stdin="short\n")
    assert "password" in assert_one_line_error(result)
    assert count(db_url, User) == 0


def test_create_token_prints_the_token_last_and_it_authenticates(env, db_url):
    result = run_cli(env, "create-token", "cad-integration", "--role", "dispatcher")
    assert result.returncode == 0, result.stderr
    token = result.stdout.split()[-1]
    with session_scope(db_url) as session:
        found = accounts.token_for(session, token, NOW)
        assert found is not None and found.role == "dispatcher"
        assert accounts.token_for(session, token + "x", NOW) is None


def test_a_bad_environment_variable_stops_with_one_line_naming_it(env):
    result = run_cli({**env, "DEFAULT_REGION": "XX"}, "init-db")
    assert "DEFAULT_REGION" in assert_one_line_error(result)


def test_an_unknown_role_is_refused_by_the_parser(env):
    result = run_cli(env, "create-token", "x", "--role", "superuser")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--role" in result.stderr


def test_bootstrap_prints_the_admin_secrets_only_on_the_first_run(env, db_url):
    first = run_cli(env, "bootstrap")
    assert first.returncode == 0, first.stderr
    words = first.stdout.split()
    password = words[words.index("password:") + 1]
    token = words[words.index("token:") + 1]
    with session_scope(db_url) as session:
        assert accounts.check_password(session, "admin", password).role == "admin"
        assert accounts.token_for(session, token, NOW).role == "admin"

    second = run_cli(env, "bootstrap")
    assert second.returncode == 0
    assert password not in second.stdout and token not in second.stdout
    assert count(db_url, User) == 1


def test_import_subscribers_reports_counts_and_the_rejected_rows(env, db_url, tmp_path):
    csv = tmp_path / "people.csv"
    csv.write_text(
        "name,phone,email,language,channels,lat,lon,zones\n"
        "Ana,(617) 555-0100,ana@example.org,es,sms;email,42.36,-71.06,\n"
        "Bao,617-555-0101,,vi,sms,42.35,-71.05,\n"
        "Nobody,12,,en,sms,,,\n", encoding="utf-8")
    result = run_cli(env, "import-subscribers", str(csv))
    assert result.returncode == 0, result.stderr
    assert "created 2, updated 0, rejected 1" in result.stdout
    assert "phone" in result.stdout  # the rejected row's reason is shown
    assert count(db_url, Subscriber) == 2

    again = run_cli(env, "import-subscribers", str(csv))
    assert "created 0, updated 2, rejected 1" in again.stdout
    assert count(db_url, Subscriber) == 2


def test_import_subscribers_names_a_missing_file(env):
    result = run_cli(env, "import-subscribers", "/nonexistent/people.csv")
    assert "/nonexistent/people.csv" in assert_one_line_error(result)


@pytest.mark.slow
def test_demo_loads_the_sample_town_once_however_often_it_runs(env, db_url):
    first = run_cli(env, "demo")
    assert first.returncode == 0, first.stderr
    counts = (count(db_url, Subscriber), count(db_url, Zone),
              count(db_url, SubscriberGroup, SubscriberGroup.name == "test"))
    assert counts == (demo.RESIDENTS, 4, demo.TEST_GROUP)

    second = run_cli(env, "demo")
    assert second.returncode == 0, second.stderr
    assert (count(db_url, Subscriber), count(db_url, Zone),
            count(db_url, SubscriberGroup, SubscriberGroup.name == "test")) == counts


def test_demo_residents_have_valid_numbers_and_live_inside_the_beats():
    rows = demo.residents()
    phones = [row["phone"] for row in rows if "phone" in row]
    assert len(set(phones)) == len(phones) > 2000
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    assert not any(p[-4:].startswith("010") for p in phones)  # 555-0100…0109 left for people
    town = [geo.parse_geometry(zone["geometry"]) for zone in demo.beats()]  # valid GeoJSON
    # the beats tile the town without overlapping
    assert shapely.union_all(town).area == pytest.approx(sum(beat.area for beat in town))
    assert shapely.union_all(town).area == pytest.approx(0.06 * 0.04)
    for row in rows:
        for place in row["locations"]:
            inside = [beat.contains(Point(place["lon"], place["lat"])) for beat in town]
            assert inside.count(True) == 1
    languages = Counter(row["language"] for row in rows)
    assert set(languages) == {"en", "es", "zh-Hans", "vi", "ht", "pt"}
    assert languages.most_common(1)[0][0] == "en"
    assert rows == demo.residents()  # the same people every time: reruns refresh, not add


def test_bad_quiet_hours_stop_setup_check_with_one_line_naming_them(env):
    result = run_cli({**env, "QUIET_HOURS": "nightly"}, "setup-check")
    line = assert_one_line_error(result)
    assert "QUIET_HOURS" in line and "21:00-08:00" in line
