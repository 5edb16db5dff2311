"""The page's CSV import under abuse: a capped report and job files, 422 for a giant field."""
from __future__ import annotations

import re
from pathlib import Path

from tests.admin_ui.pages.test_subscribers_pages import upload


def _job_files(settings) -> dict[str, Path]:
    return {p.suffix: p for p in (Path(settings.instance_path) / "imports").iterdir()}


def test_the_report_keeps_the_first_thousand_bad_rows_and_counts_all(signed_in, settings):
    client = signed_in("dispatcher")
    text = "name,phone\n" + "".join(f"Bad {n},12\n" for n in range(2600)) + "Ok,+16175550100\n"
    response = upload(client, "/subscribers/import", text)
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert re.search(r'data-testid="import-rejected">2600<', html)
    assert re.search(r'data-testid="import-created">1<', html)
    assert html.count('data-testid="import-error-row"') == 1000
    files = _job_files(settings)
    assert ".rows" not in files  # the residents' rows go once the job is done
    assert len(files[".rejected"].read_text(encoding="utf-8").splitlines()) == 1000


def test_the_progress_requests_stop_sending_errors_after_a_thousand(signed_in):
    client = signed_in("dispatcher")
    text = "name,phone\n" + "".join(f"Bad {n},12\n" for n in range(2500))
    job = upload(client, "/subscribers/import/start.json", text).get_json()
    url = f"/subscribers/import/{job['job']}/chunk.json"
    headers = {"X-CSRFToken": client.csrf}
    first = client.post(url, json={"offset": 0}, headers=headers).get_json()
    second = client.post(url, json={"offset": 2000}, headers=headers).get_json()
    assert (len(first["errors"]), len(second["errors"]), second["rejected"]) == (1000, 0, 2500)


def test_a_field_over_ten_thousand_characters_is_refused_with_its_row(signed_in, settings):
    client = signed_in("dispatcher")
    response = upload(client, "/subscribers/import/start.json",
                      "name,phone\nAna,+16175550100\n" + "x" * 300_000 + ",+16175550101\n")
    assert response.status_code == 422
    assert response.get_json()["errors"]["file"][0].startswith("Row 2: ")
    assert ".rows" not in _job_files(settings)
