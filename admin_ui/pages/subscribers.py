"""Subscribers: search, view (opt-out ledger, consent, deliveries), edit, erase, CSV import."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("subscribers")
