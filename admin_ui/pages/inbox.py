"""Residents' texts that were not keywords."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("inbox")
