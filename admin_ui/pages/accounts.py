"""Admins manage people and API tokens; TOTP enrolment."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("accounts")
