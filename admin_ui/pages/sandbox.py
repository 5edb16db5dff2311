"""The sandbox: simulated phones and mailboxes, and a simulated inbound text."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("sandbox")
