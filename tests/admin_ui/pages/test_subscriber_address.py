"""The subscriber edit page places a resident by address: suggestions help, the post decides."""
from __future__ import annotations

from notifier.db import session_scope
from notifier.models import Subscriber
from tests.admin_ui.api.test_addresses import load_town
from tests.admin_ui.pages.test_subscribers_pages import add_ana, edit_form


def saved_place(settings, sub_id: int) -> tuple[list, list]:
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.get(Subscriber, sub_id)
        return ([(loc.lat, loc.lon, loc.label) for loc in sub.locations],
                sorted(link.zone_code for link in sub.zone_links))


def test_the_form_offers_the_address_field_with_its_suggestion_script(signed_in, settings):
    sub_id = add_ana(settings)
    html = signed_in("dispatcher").get(f"/subscribers/{sub_id}/edit").get_data(as_text=True)
    assert 'data-testid="edit-address"' in html and 'list="address-suggestions"' in html
    assert 'data-suggest-url="/api/v1/addresses"' in html and "js/address_suggest.js" in html


def test_an_address_naming_one_point_sets_the_place_and_zone_without_javascript(
        signed_in, settings):
    load_town(settings)
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(
        client, zones="", locations="", address="9 MAIN st"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert saved_place(settings, sub_id) == ([(42.4, -71.4, "9 Main St")], ["beat-1"])


def test_the_start_of_the_only_matching_address_is_enough(signed_in, settings):
    load_town(settings)
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(
        client, zones="beat-3", locations="42.36, -71.06, home", address="12 av"))
    assert response.status_code == 302
    locations, zones = saved_place(settings, sub_id)
    assert locations == [(42.36, -71.06, "home"), (42.1, -71.1, "12 Avenue Rd")]
    assert zones == ["beat-1", "beat-3"]


def test_an_address_matching_several_points_lists_them_and_saves_nothing(signed_in, settings):
    load_town(settings)
    sub_id = add_ana(settings)
    before = saved_place(settings, sub_id)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(client, address="ave"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = html.split('data-testid="errors-address"')[1].split("</ul>")[0]
    assert "Several address points match" in errors
    assert "Avenue Plaza 1; 3 Beech Ave; 12 Avenue Rd" in errors
    assert 'value="ave"' in html and 'aria-invalid="true"' in html
    assert saved_place(settings, sub_id) == before


def test_an_address_matching_nothing_says_so_in_plain_words(signed_in, settings):
    load_town(settings)
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    response = client.post(f"/subscribers/{sub_id}/edit", data=edit_form(
        client, address="99 Nowhere Lane"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "No address point matches “99 Nowhere Lane”" in html


def test_no_address_leaves_the_place_to_the_locations_field(signed_in, settings):
    load_town(settings)
    sub_id = add_ana(settings)
    client = signed_in("dispatcher")
    assert client.post(f"/subscribers/{sub_id}/edit",
                       data=edit_form(client, address="  ")).status_code == 302
    assert saved_place(settings, sub_id) == ([(42.36, -71.06, "home")], ["beat-3"])
