"""Public documents (the Atom feed, CAP documents) built once per change, served with HTTP
validators: an in-process cache checked against `notifier.cap_version` on every request.

Building the feed re-renders every CAP document and re-validates every zone polygon named
(0.36 s for one alert naming a 10,000-vertex zone), so anonymous readers polling it could
starve the dispatchers' pages. Here a request costs one aggregate query while nothing changed,
and a conditional GET (`If-None-Match`, `If-Modified-Since`) gets a 304 without the body.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Hashable

from flask import Response, current_app, request

from notifier.cap_version import documents_version

# Short on purpose: a cancel or an all-clear must reach a reader (or a proxy in front of us)
# within half a minute; readers who poll more often revalidate for the price of one query.
MAX_AGE = 30
ENTRIES = 512  # CAP documents of recent public alerts, plus the feed


@dataclass(frozen=True)
class Document:
    """A rendered document; `expires` is when it must be rebuilt whatever else happens."""

    body: bytes
    mimetype: str
    last_modified: datetime | None = None
    expires: datetime | None = None
    etag: str = field(init=False)

    def __post_init__(self):
        # A strong validator from the bytes themselves: equal in every process that built them.
        object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])


class DocumentCache:
    """Documents by key, each kept with the `documents_version` it was built under."""

    def __init__(self, entries: int = ENTRIES):
        self._entries: OrderedDict[Hashable, tuple[tuple, Document]] = OrderedDict()
        self._size = entries
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, version: tuple, now: datetime,
            build: Callable[[], Document]) -> Document:
        """The document for `key` built under `version` and not expired, building it if need be.

        One thread per process builds a given key; the others wait for its result instead of
        each paying for the same build.
        """
        document = self._fresh(key, version, now)
        if document is not None:
            return document
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            document = self._fresh(key, version, now)
            if document is None:
                # Built after `version` was read: a change meanwhile leaves it stale, not wrong.
                document = build()
                with self._lock:
                    self._entries[key] = (version, document)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self._size:
                        self._entries.popitem(last=False)
        return document

    def _fresh(self, key: Hashable, version: tuple, now: datetime) -> Document | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
        built_under, document = entry
        if built_under != version or (document.expires is not None and now >= document.expires):
            return None
        return document


def cached(session, key: Hashable, now: datetime, build: Callable[[], Document]) -> Document:
    """`build()`'s document from this app's cache, valid for the database as it is now."""
    cache = current_app.extensions.get("tocsin.documents")
    if cache is None:  # one per app; setdefault keeps the first if two threads race here
        cache = current_app.extensions.setdefault("tocsin.documents", DocumentCache())
    return cache.get(key, documents_version(session), now, build)


def conditional(document: Document, now: datetime, public: bool = True) -> Response:
    """The document with ETag, Last-Modified and Cache-Control; 304 when the reader has it.

    Public documents may be kept by shared caches for MAX_AGE seconds, never past their
    expiry; private ones (behind a token) must be revalidated each time.
    """
    response = Response(document.body, mimetype=document.mimetype)
    response.set_etag(document.etag)
    if document.last_modified is not None:
        response.last_modified = min(document.last_modified, now)
    if public:
        max_age = MAX_AGE
        if document.expires is not None:
            max_age = max(0, min(max_age, int((document.expires - now).total_seconds())))
        response.cache_control.public = True
        response.cache_control.max_age = max_age
    else:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    return response.make_conditional(request)
