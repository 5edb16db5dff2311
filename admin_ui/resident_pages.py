"""What the sign-up and `/me` pages share: the reader's language, page rendering, form parsing,
per-client limits and links (no sign-in; CSRF like every other form with a session)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, g, render_template, request

from admin_ui import db, get_settings, rate_limit
from notifier import i18n, languages, topics
from notifier.scripts import text_dir
from notifier.signup_form import (CHANNEL_NAMES, MAX_PLACES, PLACE_KINDS, PLACE_NAMES,
                                  zone_choices)
from workers.queues import redis_connection

POSTS_PER_HOUR = 20  # per client address, sign-up and sign-in link requests each


def now() -> datetime:
    return datetime.now(timezone.utc)


def page_language() -> str:
    """?lang= (one of the sixteen), else the browser's, else DEFAULT_LANGUAGE."""
    if "ui_language" not in g:
        g.ui_language = i18n.negotiate(list(languages.TAGS), request.args.get("lang", "").strip(),
                                       list(request.accept_languages.values()),
                                       get_settings().default_language)
    return g.ui_language


def _(message: str) -> str:
    return i18n.gettext(page_language(), message)


def page(template: str, status: int = 200, **context) -> Response:
    language = page_language()
    html = render_template(template, page_language=language, direction=text_dir(language),
                           agency=get_settings().agency_name, **context)
    return Response(html, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex",
                             "Referrer-Policy": "no-referrer"})


def allowed(bucket: str, key: str | None = None, limit: int = POSTS_PER_HOUR) -> bool:
    """Count one request of this client (or of `key`) in `bucket`; False past `limit`/hour."""
    verdict = rate_limit.check(redis_connection(get_settings()), bucket,
                               key or rate_limit.client_address(), limit, 3600)
    return verdict.allowed


def form_choices() -> dict:
    """The sign-up / `/me` form as notifier.signup_form reads it."""
    form = request.form
    places = [{"kind": form.get(f"kind-{i}", ""), "address": form.get(f"address-{i}", ""),
               "zone": form.get(f"zone-{i}", "")} for i in range(MAX_PLACES)]
    return {"phone": form.get("phone", ""), "email": form.get("email", ""),
            "language": form.get("language", ""), "channels": form.getlist("channels"),
            "places": places, "topics": form.getlist("topics")}


def form_options(language: str) -> dict:
    """What the form's lists offer, named in the reader's language."""
    session = db()
    return {
        "language_options": [(tag, i18n.language_label(tag)) for tag in languages.TAGS],
        "channel_options": [(c, i18n.gettext(language, n)) for c, n in CHANNEL_NAMES.items()],
        "place_kinds": [(k, i18n.gettext(language, PLACE_NAMES[k])) for k in PLACE_KINDS],
        "zone_options": zone_choices(session),
        "topic_options": [(t.code, topics.name_in(t.name, language, t.code))
                          for t in topics.list_topics(session)],
        "max_places": MAX_PLACES,
    }


def link(path: str) -> str:
    """An absolute link on PUBLIC_URL (what a text or email carries)."""
    return f"{get_settings().public_url.rstrip('/')}{path}"
