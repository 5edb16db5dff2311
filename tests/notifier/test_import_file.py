"""notifier.import_file: a CSV file streamed in, one transaction per batch, rows numbered over the file."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from notifier.db import get_engine, session_factory, session_scope
from notifier.errors import InvalidInput
from notifier.import_file import BATCH, ImportStopped, NotUtf8, import_csv_file
from notifier.models import Location, Subscriber, SubscriberZone
from notifier.subscriptions import import_subscribers, parse_csv

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=timezone.utc)
HEADER = "name,phone,email,language,channels,lat,lon,zones\n"


def phone(n: int) -> str:
    return f"+1617231{n:04d}"


def people(count: int, bad: dict[int, str] | None = None) -> list[str]:
    """`count` CSV lines of distinct residents; `bad` replaces chosen rows (numbered from 1)."""
    lines = [f"Person {n},617-231-{n:04d},,es,,42.3{n % 10},-71.0{n % 10},beat-{n % 3}\n"
             for n in range(1, count + 1)]
    for number, line in (bad or {}).items():
        lines[number - 1] = line
    return lines


def write(tmp_path, lines: list[str], name: str = "people.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def count(db_url: str, model, *where) -> int:
    with session_scope(db_url, readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def one(db_url: str, number: str) -> Subscriber:
    with session_scope(db_url, readonly=True) as session:
        sub = session.scalars(select(Subscriber).where(Subscriber.phone == number)).one()
        return sub, sorted(session.scalars(select(SubscriberZone.zone_code).where(
            SubscriberZone.subscriber_id == sub.id))), session.scalars(
            select(Location.lat).where(Location.subscriber_id == sub.id)).all()


BAD = {
    3: "No phone,12,,en,,,,\n",
    5: "Last of batch one,617-231-0005,,xx,,,,\n",  # the language nobody knows
    6: "\n",  # a blank line opens batch two and keeps the numbering
    10: "Bad place,617-231-0010,,en,,95,-71,\n",
    11: "Person 1 again,(617) 231-0001,,vi,,,,beat-9\n",  # row 1, from batch one, updated
}


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "two-processes"])
def test_rows_are_numbered_over_the_whole_file_across_batches(db_url, settings, tmp_path,
                                                              workers):
    path = write(tmp_path, people(12, BAD))
    result = import_csv_file(path, settings, batch=5, now=lambda: NOW, workers=workers)
    assert (result["rows"], result["created"], result["updated"]) == (12, 7, 1)
    assert result["rejected_total"] == 3
    assert [r["row"] for r in result["rejected"]] == [3, 5, 10]
    assert "phone" in result["rejected"][0]["errors"]
    assert "language" in result["rejected"][1]["errors"]
    assert "locations" in result["rejected"][2]["errors"]
    assert count(db_url, Subscriber) == 7
    sub, zones, lats = one(db_url, phone(1))
    assert (sub.name, sub.language, zones) == ("Person 1 again", "vi", ["beat-9"])
    assert lats == [42.31]  # the update named no place: the home from batch one stays


def test_the_report_is_the_one_a_single_transaction_gives(db_url, settings, tmp_path):
    lines = people(12, BAD)
    with session_factory(db_url)() as session:  # the whole file at once, then rolled back
        whole = import_subscribers(session, parse_csv(HEADER + "".join(lines)), settings, NOW)
        session.rollback()
    streamed = import_csv_file(write(tmp_path, lines), settings, batch=4, now=lambda: NOW)
    assert streamed["rejected"] == sorted(whole["rejected"], key=lambda r: r["row"])
    assert (streamed["created"], streamed["updated"]) == (whole["created"], whole["updated"])


def test_existing_residents_are_updated_and_keep_what_the_file_leaves_out(db_url, settings,
                                                                            tmp_path):
    import_csv_file(write(tmp_path, people(4), "first.csv"), settings, batch=2)
    again = ["Renamed,617-231-0002,two@example.org,,,,,\n", "Person 9,617-231-0009,,en,,,,\n"]
    result = import_csv_file(write(tmp_path, again, "second.csv"), settings, batch=1)
    assert (result["created"], result["updated"], result["rejected_total"]) == (1, 1, 0)
    sub, zones, lats = one(db_url, phone(2))
    assert (sub.name, sub.email, sub.language) == ("Renamed", "two@example.org", "es")
    assert sub.channels == ["sms", "voice", "email"]  # the new address brings its channel
    assert (zones, lats) == (["beat-2"], [42.32])
    assert count(db_url, Subscriber) == 5


def test_a_file_refused_by_its_check_imports_nothing(db_url, settings, tmp_path):
    long_name = "x" * 10_001
    path = write(tmp_path, people(9, {8: f"{long_name},617-231-0008,,en,,,,\n"}))
    with pytest.raises(InvalidInput) as caught:
        import_csv_file(path, settings, batch=2)
    assert "Row 8" in caught.value.errors["csv"][0]
    assert "Nothing was imported" in caught.value.errors["csv"][0]
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "".join(people(6)) + "Zoë,617-231-0007,,,,,,\n").encode("latin-1"))
    with pytest.raises(NotUtf8):
        import_csv_file(latin1, settings, batch=2)
    assert count(db_url, Subscriber) == 0


@pytest.fixture
def refuse_one_phone(db_url):
    """A trigger that refuses to store +16172310007: a real failure in the middle of a file."""
    engine = get_engine(db_url)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text(
                "CREATE OR REPLACE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                "IF NEW.phone = '+16172310007' THEN RAISE EXCEPTION 'refused by the test'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse_one BEFORE INSERT ON subscribers "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_one()"))
        else:
            conn.execute(text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON subscribers "
                "WHEN NEW.phone = '+16172310007' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS refuse_one" + (" ON subscribers" if postgres else "")))
        if postgres:
            conn.execute(text("DROP FUNCTION IF EXISTS refuse_one()"))


def test_a_failed_batch_keeps_the_batches_committed_before_it(db_url, settings, tmp_path,
                                                              refuse_one_phone):
    path = write(tmp_path, people(10, {2: "Bad,12,,en,,,,\n"}))
    with pytest.raises(ImportStopped) as caught:
        import_csv_file(path, settings, batch=3)
    stop = caught.value
    assert (stop.first_row, stop.last_row) == (7, 9)
    assert "refused by the test" in str(stop.cause)
    assert (stop.totals["created"], stop.totals["rejected_total"]) == (5, 1)
    assert count(db_url, Subscriber) == 5  # rows 1-6 but the rejected row 2
    assert count(db_url, SubscriberZone) == 5 and count(db_url, Location) == 5
    assert count(db_url, Subscriber, Subscriber.phone == phone(8)) == 0  # its batch rolled back


def test_the_command_says_which_rows_stay_when_a_batch_fails(env, db_url, tmp_path,
                                                             refuse_one_phone):
    from tests.notifier.test_cli import assert_one_line_error, run_cli

    numbers = [n + 10 for n in range(BATCH)] + [7, 9_000]  # the refused one opens batch two
    lines = [f"P{n},617-231-{n:04d},,en,,,,\n" for n in numbers]
    lines[3] = "Bad,12,,en,,,,\n"
    result = run_cli(env, "import-subscribers", str(write(tmp_path, lines)))
    line = assert_one_line_error(result)
    assert f"stopped at rows {BATCH + 1:,}-{BATCH + 2:,}" in line and "refused by the test" in line
    assert f"rows 1-{BATCH:,} were imported and stay (created {BATCH - 1}" in line
    assert count(db_url, Subscriber) == BATCH - 1
