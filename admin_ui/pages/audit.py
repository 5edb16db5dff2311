"""The audit log: filters, export and a verify-chain check."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("audit")
