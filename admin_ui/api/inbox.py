"""`/api/v1/inbox`: residents' texts that were not keywords, for dispatchers to read."""
from __future__ import annotations

from admin_ui.api import bp  # noqa: F401
