"""Topics (admins): the list with followers, a topic's names per language and SMS keywords, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from admin_ui import db
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _, ui_language
from notifier import audit, languages, topics
from notifier.errors import InvalidInput, NotFound

bp = page_blueprint("topics")


def actor() -> str:
    return f"user:{current_user().name}"


def name_fields() -> list[dict]:
    """One name field per language Tocsin speaks, labelled by the language's own name."""
    return [{"tag": row.tag, "label": f"{row.names[0].title()} ({row.tag})" if row.names else row.tag}
            for row in languages.LANGUAGES]


def _keywords(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").replace(";", " ").split() if w]


def _render_form(topic, values: dict, errors: dict, status: int = 200):
    return render_template("topics/edit.html", topic=topic, values=values, errors=errors,
                           fields=name_fields()), status


@bp.get("/topics")
@login_required()
def index():
    session = db()
    items = topics.list_topics(session)
    shown = {t.code: topics.name_in(t.name, ui_language(), t.code) for t in items}
    return render_template("topics/index.html", items=items, shown=shown,
                           counts=topics.follower_counts(session, [t.code for t in items]))


@bp.get("/topics/new")
@login_required()
def new():
    return _render_form(None, {"code": "", "names": {}, "keywords": ""}, {})


@bp.get("/topics/<code>/edit")
@login_required()
def edit(code: str):
    topic = _topic_or_404(code)
    values = {"code": topic.code, "names": dict(topic.name or {}),
              "keywords": ", ".join(topic.keywords or [])}
    return _render_form(topic, values, {})


@bp.post("/topics/new")
@bp.post("/topics/<code>/edit")
@login_required()
def save(code: str | None = None):
    """Create (code from the form) or replace (code from the address); the form again (422)."""
    topic = _topic_or_404(code) if code else None
    code = code or request.form.get("code", "").strip()
    names = {f["tag"]: request.form.get(f"name-{f['tag']}", "").strip() for f in name_fields()}
    values = {"code": code, "names": names, "keywords": request.form.get("keywords", "")}
    session = db()
    try:
        saved, created = topics.put_topic(session, code, {
            "name": {tag: text for tag, text in names.items() if text},
            "keywords": _keywords(values["keywords"])}, now())
    except InvalidInput as exc:
        return _render_form(topic, values, exc.errors, 422)
    audit.record(session, actor(), "topic.create" if created else "topic.replace",
                 f"topic:{code}", {"name": saved.name, "keywords": saved.keywords}, now())
    flash(_("Topic %(code)s saved.", code=code), "info")
    return redirect(url_for("topics.index"))


@bp.get("/topics/<code>/delete")
@login_required()
def confirm_delete(code: str):
    topic = _topic_or_404(code)
    return render_template("topics/delete.html", topic=topic,
                           followers=topics.follower_counts(db(), [code])[code])


@bp.post("/topics/<code>/delete")
@login_required()
def delete(code: str):
    topic = _topic_or_404(code)
    if request.form.get("confirm") != code:
        return render_template("topics/delete.html", topic=topic,
                               followers=topics.follower_counts(db(), [code])[code],
                               error=_("Type the topic's code to confirm.")), 422
    session = db()
    followers = topics.delete_topic(session, code)
    audit.record(session, actor(), "topic.delete", f"topic:{code}", {"followers": followers}, now())
    flash(_("Topic %(code)s deleted.", code=code), "info")
    return redirect(url_for("topics.index"))


def _topic_or_404(code: str):
    try:
        return topics.get_topic(db(), code)
    except NotFound:
        abort(404)
