"""/subscribers: search, view, edit with the API's validation, erase, and the chunked CSV import."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from admin_ui.pages import subscriber_import
from notifier.db import session_scope
from notifier.models import AuditEvent, Consent, OptOut, Subscriber
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber


def add_ana(settings, **overrides) -> int:
    with session_scope(settings.database_url) as session:
        sub = make_subscriber(session, email="ana@example.org", channels=["sms", "email"], **overrides)
        alert = make_alert(session, headline="Flood warning")
        make_delivery(session, alert, sub)
        session.add(OptOut(address="ana@example.org", channel="email", at=NOW, source="keyword",
                           body="STOP"))
        session.add(Consent(address=sub.phone, channel="sms", at=NOW, source="keyword",
                            wording="JOIN"))
        return sub.id


def actions(settings) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_search_finds_by_part_of_the_phone_and_pages(signed_in, settings):
    add_ana(settings)
    with session_scope(settings.database_url) as session:
        make_subscriber(session, name="Bo", phone="+16175550199")
    client = signed_in("dispatcher")
    html = client.get("/subscribers?q=555-0100").get_data(as_text=True)
    assert html.count('data-testid="subscriber-row"') == 1 and "+16175550100" in html
    assert client.get("/subscribers").get_data(as_text=True).count('data-testid="subscriber-row"') == 2


def test_the_view_shows_ledger_consent_and_deliveries_and_masks_the_phone_for_auditors(
        signed_in, settings):
    sub_id = add_ana(settings)
    html = signed_in("dispatcher").get(f"/subscribers/{sub_id}").get_data(as_text=True)
    assert "+16175550100" in html and "Flood warning" in html and "/alerts/" in html
    assert "STOP" in html.split('data-testid="opt-outs"')[1] and "JOIN" in html.split('data-testid="consents"')[1]
    assert "opted out" in html
    audited = signed_in("auditor").get(f"/subscribers/{sub_id}")
    assert audited.status_code == 200
    page = audited.get_data(as_text=True)
    assert "+16175550100" not in page and "ana@example.org" not in page
    assert 'data-testid="edit-link"' not in page


def test_auditors_may_not_edit_erase_or_import(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("auditor")
    for path in (f"/subscribers/{sub_id}/edit", f"/subscribers/{sub_id}/erase", "/subscribers/import"):
        assert client.get(path).status_code == 403
    assert client.post(f"/subscribers/{sub_id}/erase",
                       data={"csrf_token": client.csrf, "confirm": "yes"}).status_code == 403


def edit_form(client, **overrides) -> dict:
    data = {"csrf_token": client.csrf, "name": "Ana María", "phone": "(617) 555-0100",
            "email": "ana@example.org", "language": "es", "channels": ["email", "sms"],
            "zones": "beat-3", "groups": "test, staff", "locations": "42.36, -71.06, home"}
    data.update(overrides)
    return data


def test_an_edit_is_saved_validated_like_the_api_and_audited(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(client))
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.get(Subscriber, sub_id)
        assert (sub.name, sub.language, sub.channels) == ("Ana María", "es", ["email", "sms"])
        assert sorted(g.name for g in sub.group_links) == ["staff", "test"]
        assert [(loc.lat, loc.label) for loc in sub.locations] == [(42.36, "home")]
    assert actions(settings)[-1] == "subscriber.update"


def test_bad_fields_come_back_next_to_their_inputs(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(
        client, phone="12", language="xx-nope", locations="95, 0"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("phone", "language", "locations"):
        assert f'data-testid="errors-{field}"' in html
    assert "Must be between -90 and 90" in html and 'value="Ana María"' in html


def test_a_phone_of_someone_else_is_a_field_error(signed_in, settings):
    sub_id = add_ana(settings)
    with session_scope(settings.database_url) as session:
        other = make_subscriber(session, phone="+16175550199").id
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(client, phone="+16175550199"))
    assert response.status_code == 409
    assert f"#{other}" in response.get_data(as_text=True).split('data-testid="errors-phone"')[1]


def test_erase_needs_the_confirmation_then_erases_and_audits(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    assert client.post(f"/subscribers/{sub_id}/erase", data={"csrf_token": client.csrf}).status_code == 422
    response = client.post(f"/subscribers/{sub_id}/erase", data={"csrf_token": client.csrf, "confirm": "yes"})
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Subscriber, sub_id) is None
    assert actions(settings)[-1] == "subscriber.erase"
    assert client.get(f"/subscribers/{sub_id}").status_code == 404


def test_a_post_without_csrf_token_is_refused(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    assert client.post(f"/subscribers/{sub_id}/erase", data={"confirm": "yes"}).status_code == 400


CSV = ("name,phone,email,language,zones\n"
       "Ana,(617) 555-0100,,es,beat-3\n"
       "Bad,12,,en,\n"
       "\n"
       "Cy,,cy@example.org,xx-nope,\n"
       "Di,+16175550102,,en,\n")


def upload(client, path, text, name="people.csv"):
    return client.post(path, data={"csrf_token": client.csrf,
                                   "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_the_import_without_javascript_reports_counts_and_each_bad_row(signed_in, settings):
    client = signed_in("dispatcher")
    response = upload(client, "/subscribers/import", CSV)
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert re.search(r'data-testid="import-created">2<', html)
    assert re.search(r'data-testid="import-rejected">2<', html)
    rows = re.findall(r'import-error-row"><td class="num">(\d+)</td><td>(\w+)</td>', html)
    assert rows == [("2", "phone"), ("4", "language")]
    assert "subscriber.import" in actions(settings)


def test_the_import_runs_in_chunks_and_a_repeated_chunk_imports_nothing_twice(
        signed_in, settings, monkeypatch):
    monkeypatch.setattr(subscriber_import, "CHUNK", 2)
    client = signed_in("dispatcher")
    start = upload(client, "/subscribers/import/start.json", CSV)
    assert start.status_code == 200
    job = start.get_json()
    assert (job["total"], job["done"], job["finished"]) == (5, 0, False)
    headers = {"X-CSRFToken": client.csrf}
    url = f"/subscribers/import/{job['job']}/chunk.json"
    first = client.post(url, json={"offset": 0}, headers=headers).get_json()
    assert (first["done"], first["percent"], first["created"]) == (2, 40, 1)
    assert [(e["row"], e["field"]) for e in first["errors"]] == [(2, "phone")]
    again = client.post(url, json={"offset": 0}, headers=headers).get_json()
    assert again["done"] == 2 and again["errors"] == []
    second = client.post(url, json={"offset": 2}, headers=headers).get_json()
    assert [(e["row"], e["field"]) for e in second["errors"]] == [(4, "language")]
    last = client.post(url, json={"offset": 4}, headers=headers).get_json()
    assert last["finished"] and (last["created"], last["rejected"], last["percent"]) == (2, 2, 100)
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalar(select(Subscriber.language).where(Subscriber.phone == "+16175550100")) == "es"
    assert actions(settings).count("subscriber.import") == 3


def test_a_file_without_a_usable_header_is_refused_with_the_reason(signed_in):
    client = signed_in("dispatcher")
    response = upload(client, "/subscribers/import", "nom,telephone\nAna,1\n")
    assert response.status_code == 422
    assert "Unknown column" in response.get_data(as_text=True)
    response = upload(client, "/subscribers/import/start.json", "nom\n")
    assert response.status_code == 422 and "file" in response.get_json()["errors"]


def test_another_dispatcher_cannot_drive_someone_elses_import(signed_in):
    client = signed_in("dispatcher", "dana")
    job = upload(client, "/subscribers/import/start.json", CSV).get_json()["job"]
    other = signed_in("dispatcher", "eli")
    response = other.post(f"/subscribers/import/{job}/chunk.json", json={"offset": 0},
                          headers={"X-CSRFToken": other.csrf})
    assert response.status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/subscribers")
    assert response.status_code == 302 and "/login" in response.location


def test_the_pages_speak_spanish_when_asked(signed_in):
    html = signed_in("dispatcher").get("/subscribers?lang=es").get_data(as_text=True)
    assert "Importar un archivo CSV" in html and "0 suscriptores" in html


def test_quiet_hours_are_edited_on_the_page_and_validated_like_the_api(signed_in, settings):
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    page = client.get(f"/subscribers/{sub_id}/edit").get_data(as_text=True)
    # The field shows the agency's default (the suite's env turns quiet hours off).
    assert 'data-testid="edit-quiet_hours"' in page and f'placeholder="{settings.quiet_hours}"' in page
    response = client.post(f"/subscribers/{sub_id}/edit",
                           data=edit_form(client, quiet_hours="22:00-7:00"))
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Subscriber, sub_id).quiet_hours == "22:00-07:00"
    shown = client.get(f"/subscribers/{sub_id}").get_data(as_text=True)
    assert "22:00-07:00" in shown.split('data-testid="subscriber-quiet-hours"')[1][:40]
    bad = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(client, quiet_hours="nightly"))
    assert bad.status_code == 422
    assert 'data-testid="errors-quiet_hours"' in bad.get_data(as_text=True)
    emptied = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(client, quiet_hours=""))
    assert emptied.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Subscriber, sub_id).quiet_hours is None
