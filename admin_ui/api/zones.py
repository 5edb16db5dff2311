"""`/api/v1/zones`: named areas (police beats, ZIP codes, evacuation zones)."""
from __future__ import annotations

from admin_ui.api import bp  # noqa: F401
