"""The dispatchers' web pages (session sign-in, CSRF), one blueprint per area."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

# Signed in for one long shift; a new sign-in after that.
SESSION_LIFETIME = timedelta(hours=12)


def register(app: Flask) -> None:
    """Register the page blueprints on `app`, with CSRF on every unsafe page request."""
    from admin_ui.csrf import init_csrf
    from admin_ui.pages import (accounts, alerts, audit, auth, dashboard, inbox, sandbox,
                                subscribers, topics, zones)
    from admin_ui.pages.filters import init_filters
    from admin_ui.pages.guard import check_every_page_guarded, current_user
    from admin_ui.pages.i18n import init_i18n

    app.permanent_session_lifetime = SESSION_LIFETIME
    init_csrf(app)
    init_i18n(app)
    init_filters(app, app.extensions["tocsin.settings"].timezone)
    from admin_ui.pages.audit_view import init_audit_view
    init_audit_view(app)
    blueprints = (auth.bp, alerts.bp, dashboard.bp, accounts.bp, audit.bp, inbox.bp,
                  subscribers.bp, zones.bp, topics.bp, sandbox.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.context_processor
    def _user():
        from flask import request
        if request.blueprint in {b.name for b in blueprints}:
            return {"user": current_user()}
        return {}

    check_every_page_guarded(app, tuple(b.name for b in blueprints))

