"""Zones: a map of all zones, GeoJSON import, keywords."""
from __future__ import annotations

from admin_ui.pages.guard import page_blueprint

bp = page_blueprint("zones")
