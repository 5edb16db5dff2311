"""A draft to everyone awaiting a second person's approval, as the alert list and the
dashboard show it (the author waits; another dispatcher or an admin may approve)."""
from __future__ import annotations

import dataclasses

from admin_ui import create_app
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code
from tests.admin_ui.pages.test_alerts import compose, residents  # noqa: F401


def clients(settings, user, *people, **changes):
    """Signed-in page clients of one app, one per (name, role) in `people`."""
    app = create_app(dataclasses.replace(settings, **changes))
    app.config["TESTING"] = True
    made = []
    for name, role in people:
        client = page_client(app)
        sign_in_with_code(client, user(name, role))
        client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
        made.append(client)
    return made


def state_cell(html: str, alert_id: int) -> str:
    return html.split(f'data-testid="alert-state-{alert_id}"')[1].split("</td>")[0]


def test_the_list_says_awaiting_approval_and_who_may_give_it_instead_of_draft(
        settings, residents, user):
    ann, bob = clients(settings, user, ("ann", "dispatcher"), ("bob", "dispatcher"),
                       approval_threshold=10**9)
    everyone = compose(ann, area_geojson="", everyone="1")
    small = compose(ann)
    cell = state_cell(ann.get("/alerts").get_data(as_text=True), everyone)
    assert 'data-state="awaiting-approval"' in cell and "Awaiting approval" in cell
    assert "by a dispatcher or admin other than user:ann" in cell and "draft" not in cell
    small_cell = state_cell(ann.get("/alerts").get_data(as_text=True), small)
    assert 'data-state="draft"' in small_cell and "Awaiting approval" not in small_cell

    assert bob.post(f"/alerts/{everyone}/approve", data={"csrf_token": bob.csrf}).status_code == 302
    cell = state_cell(ann.get("/alerts").get_data(as_text=True), everyone)
    assert 'data-state="draft"' in cell and "Awaiting approval" not in cell


def test_the_dashboard_shows_other_dispatchers_and_admins_the_draft_to_approve(
        settings, residents, user):
    ann, bob, ada = clients(settings, user, ("ann", "dispatcher"), ("bob", "dispatcher"),
                            ("ada", "admin"), approval_threshold=10**9)
    alert_id = compose(ann, area_geojson="", everyone="1", headline="Evacuate the valley")
    compose(ann, status="Exercise", area_geojson="", everyone="1")  # needs no approval
    for other in (bob, ada):
        html = other.get("/dashboard").get_data(as_text=True)
        notice = html.split('data-testid="awaiting-approval"')[1].split("</section>")[0]
        assert "1 alert awaiting approval" in notice
        assert f'href="/alerts/{alert_id}/preview"' in notice and "Evacuate the valley" in notice
        assert "It goes to everyone in the service area." in notice
        assert f'data-testid="awaiting-approve-{alert_id}"' in notice
        assert "awaiting-mine" not in notice and notice.count("<li") == 1
    mine = ann.get("/dashboard").get_data(as_text=True)
    assert f'data-testid="awaiting-mine-{alert_id}"' in mine
    assert "Waiting for a second person" in mine and "awaiting-approve-" not in mine

    assert bob.post(f"/alerts/{alert_id}/approve", data={"csrf_token": bob.csrf}).status_code == 302
    for client in (ann, bob, ada):
        assert 'data-testid="awaiting-approval"' not in client.get("/dashboard").get_data(as_text=True)


def test_a_quiet_dashboard_has_no_approval_notice(signed_in):
    html = signed_in("dispatcher").get("/dashboard").get_data(as_text=True)
    assert 'data-testid="awaiting-approval"' not in html
