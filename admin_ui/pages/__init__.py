"""The dispatchers' web pages (session sign-in, CSRF), one blueprint per area."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the page blueprints on `app`."""
