"""Public addresses of an alert: the page a post or a long SMS links to, and its CAP document."""
from __future__ import annotations


def cap_url(settings, alert) -> str:
    """The alert's CAP document (identifiers are URL-safe by construction)."""
    return f"{settings.public_url}/feeds/alerts/{alert.identifier}.xml"


def page_url(settings, alert) -> str:
    """The public alert page (`/a/<public id>`), where a post that had to be cut continues."""
    public_id = getattr(alert, "public_id", None)
    return f"{settings.public_url}/a/{public_id}" if public_id else cap_url(settings, alert)
