"""/api/v1/alerts and the two-person rule for everyone: `awaiting_approval` and `approval` on
an alert, and a send refused until a second dispatcher approves."""
from __future__ import annotations

from tests.admin_ui.api.test_alerts import (URL, app_client, fan_out_jobs, nothing_went_out,
                                            residents_downtown, with_changes)

EVERYONE = with_changes(area={"everyone": True})
REASON = "It goes to everyone in the service area."


def test_an_alert_to_everyone_is_refused_until_a_second_dispatcher_approves(settings, token):
    author = {"Authorization": f"Bearer {token('dispatcher', 'cad')}"}
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    residents_downtown(settings, 1)
    client = app_client(settings, approval_threshold=10**9)  # the threshold as good as off
    created = client.post(URL, json=EVERYONE, headers=author)
    assert created.status_code == 201
    alert_id = created.get_json()["id"]
    for _ in range(2):  # asking again changes nothing
        refused = client.post(f"{URL}/{alert_id}/send", headers=author)
        assert refused.status_code == 409
        assert refused.get_json()["error"] == "approval required"
        assert refused.get_json()["approval"]["everyone"] is True
        assert refused.get_json()["approval"]["reasons"] == [REASON]
    nothing_went_out(settings, alert_id)
    own = client.post(f"{URL}/{alert_id}/approve", headers=author)
    assert own.status_code == 403
    assert client.post(f"{URL}/{alert_id}/send", headers=author).status_code == 409
    assert client.post(f"{URL}/{alert_id}/approve", headers=second).status_code == 200
    assert client.post(f"{URL}/{alert_id}/send", headers=author).status_code == 202
    assert fan_out_jobs(settings) == [f"fan-out-{alert_id}"]


def test_the_alert_says_it_awaits_approval_why_and_who_may_give_it(settings, token, auth):
    author = {"Authorization": f"Bearer {token('dispatcher', 'cad')}"}
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    residents_downtown(settings, 1)
    client = app_client(settings, approval_threshold=10**9)
    created = client.post(URL, json=EVERYONE, headers=author).get_json()
    assert created["state"] == "draft" and created["awaiting_approval"] is True
    assert created["approval"]["needed"] is True
    assert created["approval"]["reasons"] == [REASON]
    assert created["approval"]["approver_roles"] == ["dispatcher", "admin"]
    assert created["created_by"] == "token:cad"  # … and never the author

    shown = client.get(f"{URL}/{created['id']}", headers=auth("auditor")).get_json()
    assert (shown["state"], shown["awaiting_approval"]) == ("draft", True)
    assert shown["approval"]["reasons"] == [REASON]
    client.post(f"{URL}/{created['id']}/approve", headers=second)
    shown = client.get(f"{URL}/{created['id']}", headers=auth("auditor")).get_json()
    assert (shown["state"], shown["awaiting_approval"]) == ("draft", False)
    assert shown["approval"]["needed"] is True and shown["approval"]["approved_by"] == "token:supervisor"


def test_list_items_say_which_drafts_await_approval(settings, token):
    author = {"Authorization": f"Bearer {token('dispatcher', 'cad')}"}
    residents_downtown(settings, 1)
    client = app_client(settings, approval_threshold=10**9)
    waiting = client.post(URL, json=EVERYONE, headers=author).get_json()["id"]
    small = client.post(URL, json=with_changes(), headers=author).get_json()["id"]
    drill = client.post(URL, json=with_changes(status="Exercise", area={"everyone": True}),
                        headers=author).get_json()["id"]
    assert client.post(f"{URL}/{drill}/send", headers=author).status_code == 202
    items = client.get(URL, headers=author).get_json()["items"]
    assert {item["id"]: item["awaiting_approval"] for item in items} == {
        waiting: True, small: False, drill: False}
    # Lists keep `approval` short: who approved, no reach per item.
    assert set(items[0]["approval"]) == {"approved_by", "approved_at"}
    only_drafts = client.get(URL + "?state=draft", headers=author).get_json()["items"]
    assert [item["id"] for item in only_drafts] == [small, waiting]
