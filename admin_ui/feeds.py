"""Public feeds: `/feeds/alerts.atom`, active public Actual alerts as CAP-in-Atom (no sign-in)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
