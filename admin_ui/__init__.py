"""The Flask app factory: settings, one DB session per request, JSON errors for machines."""
from __future__ import annotations

import logging
import os

from flask import Flask, Request, current_app, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import (BadRequest, HTTPException, InternalServerError, ServiceUnavailable,
                                 UnsupportedMediaType)
from werkzeug.middleware.proxy_fix import ProxyFix

from notifier import alert_templates, redis_fit
from notifier.config import Settings
from notifier.db import session_factory, use_audit_key
from notifier.errors import (ApprovalRequired, Conflict, Forbidden, InvalidInput,
                             MachineTranslationNotAccepted, NotFound, TranslationUnavailable)
from notifier.masking import LOG_FORMAT, MaskingFilter, mask_handlers

# CSV imports of a whole town fit; anything bigger is a mistake or an attack.
MAX_CONTENT_LENGTH = 20 * 1024 * 1024
# Paths whose clients are programs: every error there is JSON, never an HTML page.
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiRequest(Request):
    """Says plainly what was wrong with a JSON body (Flask's default says only "Bad Request")."""

    def get_json(self, force=False, silent=False, cache=True):
        from admin_ui.json_depth import MAX_DEPTH, nested_deeper_than

        # Measured before parsing: json's recursion fails on deep input (a 500, not a 400).
        if (force or self.is_json) and nested_deeper_than(self.get_data(cache=True)):
            if silent:
                return None
            raise BadRequest(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        return super().get_json(force=force, silent=silent, cache=cache)

    def on_json_loading_failed(self, e):
        if e is None:
            raise UnsupportedMediaType("expected Content-Type: application/json")
        raise BadRequest("the body is not valid JSON")


def create_app(settings: Settings | None = None) -> Flask:
    """Return a configured app; `settings` default to `Settings.from_env()`."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.request_class = ApiRequest
    if settings.trusted_proxies:
        # Each trusted proxy appends one X-Forwarded-For entry: the client is the n-th from the
        # right; anything further left came from the client and is ignored. With 0, no header.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https" if settings.public_url.startswith("https://") else "http",
    )
    app.json.sort_keys = False
    app.extensions["tocsin.settings"] = settings
    # An evicting Redis could drop queued alerts: refuse to start on one (notifier.redis_fit).
    redis_fit.refuse_unfit(settings.redis_url, app.logger.warning)
    use_audit_key(settings.database_url, settings.audit_key)
    # A bad file under locales/templates/ stops start-up here, naming the file and the field.
    alert_templates.templates()
    app.extensions["tocsin.sessionmakers"] = {}
    _install_log_masking(app)
    from admin_ui.security_headers import install_security_headers
    install_security_headers(app, settings)

    app.after_request(_finish_session)
    app.teardown_request(_close_session)
    _register_errors(app)

    from admin_ui import (email_links, feeds, health, inbound_sms, me, metrics, pages,
                          public_pages, signup, voice, webhooks)
    from admin_ui.api import IdConverter, bp as api_bp, check_every_route_guarded

    app.url_map.converters["id"] = IdConverter

    for blueprint in (api_bp, webhooks.bp, inbound_sms.bp, voice.bp, email_links.bp, feeds.bp,
                      public_pages.bp, health.bp, metrics.bp, signup.bp, me.bp):
        app.register_blueprint(blueprint)
    pages.register(app)
    check_every_route_guarded(app)
    return app


def get_settings() -> Settings:
    """Return the settings of the app handling this request."""
    return current_app.extensions["tocsin.settings"]


def db() -> Session:
    """Return this request's session, opened on first use (read-only for GET on SQLite)."""
    session = g.get("db_session")
    if session is None:
        readonly = request.method in READ_METHODS
        # One sessionmaker per process and mode: building one per request costs more than
        # a whole status callback. Keyed by pid because the engine is (gunicorn forks).
        key = (os.getpid(), readonly)
        makers = current_app.extensions["tocsin.sessionmakers"]
        maker = makers.get(key)
        if maker is None:
            # With the Redis URL, the opt-outs and cancels a request commits reach workers
            # mid-batch at once (notifier.hints).
            settings = get_settings()
            maker = makers[key] = session_factory(settings.database_url, readonly,
                                                  redis_url=settings.redis_url)
        session = g.db_session = maker()
    return session


def _finish_session(response):
    """Commit what a successful request wrote; a failed one leaves no trace."""
    session = g.pop("db_session", None)
    if session is None:
        return response
    try:
        if response.status_code < 400:
            session.commit()
    finally:
        # Closing rolls back whatever was not committed: a refused request or a failed commit.
        session.close()
    return response


def _close_session(_exc):
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(status: int, message: str, **extra):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def errors_response(errors: dict, status: int = 422):
    response = jsonify({"errors": errors})
    response.status_code = status
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(InvalidInput)
    def _invalid(exc: InvalidInput):
        return errors_response(_as_field_lists(exc.errors))

    @app.errorhandler(ValidationError)
    def _marshmallow(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return errors_response(_as_field_lists(messages))

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        extra = {"id": exc.existing_id} if exc.existing_id is not None else {}
        return error_response(409, exc.message, **extra)

    @app.errorhandler(ApprovalRequired)
    def _approval_required(exc: ApprovalRequired):
        return error_response(409, exc.message, approval=exc.approval)

    @app.errorhandler(MachineTranslationNotAccepted)
    def _not_accepted(exc: MachineTranslationNotAccepted):
        return error_response(409, exc.message, machine_translated=exc.languages)

    @app.errorhandler(TranslationUnavailable)
    def _no_translation(exc: TranslationUnavailable):
        if not wants_json():  # pages say it on the form they show
            return ServiceUnavailable(exc.message)
        return error_response(503, exc.message)

    @app.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden):
        return error_response(403, exc.message)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_response(404, str(exc) or "not found")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not wants_json():
            return exc
        response = error_response(exc.code or 500, _http_message(exc))
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return InternalServerError()
        return error_response(500, "internal error; the details are in the server log")


def _http_message(exc: HTTPException) -> str:
    # werkzeug's descriptions of its own errors are prose for browsers; keep ours short.
    if exc.description and exc.description != type(exc).description:
        return exc.description
    return {400: "bad request", 401: "a valid bearer token is required",
            403: "this token's role may not do that", 404: "not found",
            405: "method not allowed", 409: "conflict",
            413: f"the body is larger than {MAX_CONTENT_LENGTH // (1024 * 1024)} MB",
            415: "unsupported content type", 500: "internal error"}.get(
        exc.code, (exc.name or "error").lower())


def _as_field_lists(errors) -> dict:
    """Return {field: [messages]}; nested marshmallow dicts keep their structure under the field."""
    if not isinstance(errors, dict):
        return {"_schema": errors if isinstance(errors, list) else [str(errors)]}
    out = {}
    for key, value in errors.items():
        out[str(key)] = value if isinstance(value, (list, dict)) else [str(value)]
    return out


def _install_log_masking(app: Flask) -> None:
    if not logging.getLogger().handlers:
        # Under gunicorn nothing handles our own loggers' INFO lines (callbacks, opt-outs,
        # redials, with their alert_id= and delivery_id=): stderr, as the workers log.
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    mask_handlers()
    for logger in (app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.access"),
                   logging.getLogger("gunicorn.error")):
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
