"""Template filters of the pages: local times, language names, masked addresses, approvals."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import Flask

from admin_ui.pages.labels import init_labels
from notifier import i18n
from notifier.approval import valid_approval
from notifier.topics import audience_topic
from notifier.masking import mask_address, mask_text
from notifier.scripts import text_dir


def init_filters(app: Flask, timezone_name: str) -> None:
    zone = ZoneInfo(timezone_name)

    @app.template_filter("local_time")
    def local_time(value: datetime | None) -> str:
        """A time in the agency's zone, to the minute, with the zone's abbreviation."""
        if value is None:
            return ""
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    @app.template_filter("language_name")
    def language_name(tag: str) -> str:
        """A language's own name for itself (español, not Spanish): findable by its readers."""
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            return tag
        return locale.get_display_name(locale) or tag

    # "Deutsch (de)": a language's own name and its tag, as the pick-lists show it.
    app.add_template_filter(i18n.language_label, "language_label")
    # `dir` for a container of text in a language: rtl, ltr, or auto when it is unknown.
    app.add_template_filter(text_dir, "text_dir")

    @app.template_filter("masked")
    def masked(address: str | None) -> str:
        """Phones masked as in the logs; emails keep their first letter and domain."""
        return mask_address(address)

    @app.template_filter("masked_text")
    def masked_text(text: str | None) -> str:
        """A provider's error text with the numbers and emails it quotes masked (older rows
        were stored before errors were masked on the way in)."""
        return mask_text(text) or ""

    # (approved_by, approved_at) of an approval that still covers the alert, else None.
    app.add_template_filter(valid_approval, "valid_approval")
    # The topic whose followers alone an alert reaches (None: everyone in its area).
    app.add_template_filter(audience_topic, "audience_topic")
    # The words for states, statuses, message types and channels (admin_ui/pages/labels.py).
    init_labels(app)

    @app.context_processor
    def _zone():
        return {"config_timezone": timezone_name}
