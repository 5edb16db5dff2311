"""A public post is sized for its service: cut at a word, ending with the page's link."""
from __future__ import annotations

from types import SimpleNamespace

from notifier import post_text

LINK = "https://alerts.example.gov/a/Xy12abCD"
WORDS = ("Gas leak on Main Street between 3rd and 9th. Leave the buildings on both sides now "
         "and walk upwind to the park. Do not use lights, phones or lifts inside. ") * 4


def test_a_short_text_is_posted_as_it_is_without_a_link():
    text = "Boil water notice lifted for Ward 3."
    assert post_text.sized(text, LINK, post_text.limit_for("mastodon://t@m.example")) == text


def test_mastodon_counts_a_link_as_23_and_cuts_at_a_word():
    limit = post_text.limit_for("mastodon://token@mastodon.social")
    post = post_text.sized(WORDS, LINK, limit)
    assert post.endswith(f"… {LINK}")
    assert post_text.counted_length(post, LINK, limit) <= 500
    assert post_text.counted_length(post, LINK, limit) > 480  # not cut needlessly short
    head = post[:-len(f"… {LINK}")]
    assert WORDS.startswith(head) and WORDS[len(head)] == " "  # ends on a whole word


def test_x_and_bluesky_take_280_and_chat_services_much_more():
    for url in ("twitter://a/b/c/d", "bluesky://user:pass@bsky.social"):
        post = post_text.sized(WORDS, LINK, post_text.limit_for(url))
        assert post.endswith(LINK)
        assert post_text.counted_length(post, LINK, post_text.limit_for(url)) <= 280
    assert len(WORDS) < 2000
    assert post_text.sized(WORDS, LINK, post_text.limit_for("discord://id/token")) == WORDS


def test_the_post_is_the_alerts_text_in_the_language_with_a_follow_up_marked():
    settings = SimpleNamespace(agency_name="Metro PD", default_language="en")
    alert = SimpleNamespace(msg_type="Cancel", messages={"en": "All clear on Main St.",
                                                         "es": "Fin de la alerta en Main St."})
    assert post_text.full_text(alert, "es", settings) == (
        "[FIN DE ALERTA] Metro PD: Fin de la alerta en Main St.")
    assert post_text.full_text(alert, "en", settings) == "[ALL CLEAR] Metro PD: All clear on Main St."
