"""`/api/v1/alerts/<id>/cap.xml`: an alert as a CAP 1.2 document."""
from __future__ import annotations

from admin_ui.api import bp  # noqa: F401
