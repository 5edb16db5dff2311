"""Security headers on every response (flask-talisman): CSP, frame-ancestors, nosniff, HSTS."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import Talisman

from notifier.config import Settings

HSTS_SECONDS = 365 * 24 * 3600


def content_security_policy(settings: Settings) -> dict[str, str]:
    """The policy: nothing inline (scripts or styles), images also from the map's tile server.

    Styles are 'self' only: the templates use classes, never `style="..."`; Leaflet positions
    its tiles through the CSSOM (`el.style.x = …`), which CSP does not restrict.
    """
    images = " ".join(["'self'", "data:", *_tile_sources(settings.map_tile_url)])
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": images,
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def _tile_sources(tile_url: str) -> list[str]:
    """The CSP source of a Leaflet tile template such as https://{s}.tile.example/{z}/{x}/{y}.png."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return []  # a path on this site: 'self' covers it
    host = parts.netloc.rsplit("@", 1)[-1]
    # `{s}` (a subdomain letter) or any other placeholder in the host: allow its subdomains.
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        labels = ["*"] + labels[templated[-1] + 1:]
    return [f"{parts.scheme}://{'.'.join(labels)}"]


def install_security_headers(app: Flask, settings: Settings) -> None:
    """Send the headers on pages, the API, webhooks and static files alike.

    TLS ends at the proxy, so Talisman never redirects to https, and the session cookie keeps
    the app's own settings (Secure follows PUBLIC_URL). HSTS follows PUBLIC_URL too, not the
    request: a proxy that forgets X-Forwarded-Proto must not switch it off.
    """
    Talisman(app, force_https=False, strict_transport_security=False,
             session_cookie_secure=False,
             session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
             session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
             frame_options="DENY", content_security_policy=content_security_policy(settings),
             referrer_policy="same-origin")
    if settings.public_url.startswith("https://"):
        @app.after_request
        def _hsts(response):
            response.headers["Strict-Transport-Security"] = \
                f"max-age={HSTS_SECONDS}; includeSubDomains"
            return response
