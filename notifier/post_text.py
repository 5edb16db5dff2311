"""The text of a public post, sized for the service it goes to (Apprise does not shorten).

X and Bluesky-like services take 280 characters, Mastodon 500 as it counts them (a link counts
23 whatever its length), chat services far more. A text that does not fit is cut at a word and
ends with the public page's link, so the rest is one tap away. The compose page, the preview
and the worker all ask this module, so what a dispatcher sees is what is posted.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from notifier.i18n import gettext
from notifier.render import MSG_TYPE_PREFIX, message_language

ELLIPSIS = "…"


@dataclass(frozen=True)
class Limit:
    characters: int
    link_counts: int | None = None  # what a link counts as (None: its own length)


# Apprise URL schemes → the service's limit on one post.
LIMITS = {
    **dict.fromkeys(("mastodon", "mastodons", "toot", "toots"), Limit(500, 23)),
    **dict.fromkeys(("twitter", "x", "tweet"), Limit(280, 23)),
    **dict.fromkeys(("bluesky", "bsky"), Limit(280)),
    **dict.fromkeys(("threads",), Limit(500)),
    **dict.fromkeys(("discord",), Limit(2000)),
    **dict.fromkeys(("tgram",), Limit(4096)),
    **dict.fromkeys(("ntfy", "ntfys"), Limit(4096)),
    **dict.fromkeys(("slack", "msteams", "matrix", "matrixs", "mmost", "mmosts", "rocket",
                     "rockets", "zulip", "json", "jsons", "form", "forms", "xml", "xmls"),
                    Limit(4000)),
}
DEFAULT_LIMIT = Limit(1000)


def limit_for(target_url: str) -> Limit:
    return LIMITS.get(urlsplit(target_url).scheme.lower(), DEFAULT_LIMIT)


def counted_length(text: str, link: str, limit: Limit) -> int:
    """Length of `text` as the service counts it, where `link` (if in it) may count less."""
    if limit.link_counts is None or not link or link not in text:
        return len(text)
    return len(text) - text.count(link) * (len(link) - limit.link_counts)


def full_text(alert, language: str, settings) -> str:
    """What the post would say with no limit: follow-up marker, agency, the text."""
    chosen = message_language(alert, language, settings)
    parts = []
    marker = MSG_TYPE_PREFIX.get(getattr(alert, "msg_type", None))
    if marker:
        parts.append(gettext(chosen, marker))
    text = alert.messages[chosen].strip()
    parts.append(f"{settings.agency_name}: {text}" if settings.agency_name else text)
    return " ".join(parts)


def sized(text: str, link: str, limit: Limit) -> str:
    """`text` if it fits `limit`, else cut at a word, with "… <link>" at the end."""
    if counted_length(text, link, limit) <= limit.characters:
        return text
    tail = f"{ELLIPSIS} {link}" if link else ELLIPSIS
    room = limit.characters - counted_length(tail, link, limit)
    cut = text[:max(room, 0) + 1]
    # At the last space that leaves the text within the room (a word longer than the room
    # is cut inside: a post is better short than refused).
    space = cut.rstrip().rfind(" ", 0, room + 1)
    head = (cut[:space] if space > 0 else text[:max(room, 0)]).rstrip(" ,;:-–—")
    return f"{head}{tail}" if head else tail.lstrip(ELLIPSIS + " ")


def post_for(alert, target_url: str, language: str, settings, link: str) -> str:
    """The exact text posted to `target_url` for a reader of `language`."""
    return sized(full_text(alert, language, settings), link, limit_for(target_url))
