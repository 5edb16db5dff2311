"""The pages' language: ?lang= (kept in the session), else the browser's (negotiated as for
residents: zh-TW gets zh-Hant); one catalog per language."""
from __future__ import annotations

from flask import Flask, g, request, session

from notifier import i18n


def available_languages() -> list[str]:
    """`en` (the source text) plus every language with a catalog."""
    return ["en", *i18n.catalog_languages()]


def ui_language() -> str:
    """The language of this request's page."""
    if "ui_language" not in g:
        choices = available_languages()
        wanted = request.args.get("lang", "").strip()
        if wanted in choices:
            session["lang"] = wanted
        chosen = session.get("lang")
        if chosen not in choices:
            chosen = i18n.negotiate(choices, None, list(request.accept_languages.values()), "en")
        g.ui_language = chosen
    return g.ui_language


def gettext(message: str, **variables) -> str:
    """`message` in the page's language, %-formatted with `variables`."""
    text = i18n.translations(ui_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = i18n.translations(ui_language()).ngettext(singular, plural, n)
    return text % variables if variables else text


def _template_gettext(message: str) -> str:
    return i18n.translations(ui_language()).gettext(message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(ui_language()).ngettext(singular, plural, n)


def init_i18n(app: Flask) -> None:
    """Give templates `_()`/`gettext()` (Jinja's i18n extension, new style) and `ui_language`."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)

    @app.context_processor
    def _language():
        return {"ui_language": ui_language(), "ui_languages": available_languages()}

