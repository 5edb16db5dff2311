"""Secrets kept out of what is shown: URLs without their password, settings without secrets."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

# Settings whose value is a secret, by name; URLs show no password; URL lists only a count.
_SECRET_NAME = re.compile(r"(secret|token|password|_key)$|api_key")
_SECRET_QUERY = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def shown(name: str, value) -> str:
    """The repr of setting `name`, or a stand-in when it is or holds a secret."""
    if value and _SECRET_NAME.search(name):
        return "'***'"
    if name.endswith("_urls") and value:
        return f"<{len(value)} hidden>"
    if isinstance(value, str) and "://" in value:
        return repr(safe_url(value))
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return repr(tuple(safe_url(v) for v in value))
    return repr(value)


def safe_url(url: str) -> str:
    """`url` with its password (and any password-like query value) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        url = url.replace(parts.netloc, f"{user.split(':', 1)[0]}:***@{host}", 1)
    if parts.query and _SECRET_QUERY.search(parts.query):
        query = urlencode([(k, "***" if _SECRET_QUERY.search(k) else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
        url = url.replace("?" + parts.query, "?" + query, 1)
    return url
