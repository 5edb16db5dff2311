"""The reach preview's memory: residents' locations, zone follows, the test group and the
preview's per-resident groups as numpy arrays, per database and process.

Reading a million rows costs a preview ~1 s, the geometry on them ~0.03 s: so each part is
read once and read again only when the `notifier.reach_stamps` of its tables moved (one
small query per preview). The stamps are read before the rows, so a part is never older than
its stamp says; a write committed between the two only costs one more reload. The reach of
a zone (residents located inside its polygon) is kept the same way, so a zone-only preview
is set lookups, not a geometry test. The fan-out does not use it: it reads what it needs
from SQL with the same rule (`notifier.reach`), so a worker stays small.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from itertools import groupby
from typing import Iterator

import numpy as np
import shapely
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from notifier import reach_stamps
from notifier.channel_specs import ADDRESS_OF
from notifier.models import Location, OptOut, Subscriber, SubscriberGroup, SubscriberZone

TEST_GROUP = "test"
_CHUNK = 100_000  # rows per fetchmany: large enough that Python's per-call cost vanishes
# Each part and the tables its query reads: exactly those, so a part is current whenever they
# are (an erased resident's locations and follows go by cascade, which stamps those tables).
_SOURCES = {
    "locations": ("locations",),
    "follows": ("subscriber_zones",),
    "testers": ("subscriber_groups",),
    "groups": ("subscribers",),
    "zone_reach": ("locations", "zones"),
    "unplaced": ("locations", "subscriber_zones", "subscribers"),
    "opted_out": ("opt_outs", "subscribers"),
}


def raw_chunks(session_or_conn, stmt) -> Iterator[list[tuple]]:
    """Plain DB-API tuples in chunks of _CHUNK rows, read inside the session's transaction.

    Building a SQLAlchemy Row per location costs more than the query itself at a million
    residents, and numpy wants tuples anyway; PostgreSQL streams through a server-side cursor.
    """
    conn = session_or_conn.connection() if isinstance(session_or_conn, Session) else session_or_conn
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    dbapi = conn.connection.driver_connection
    named = conn.dialect.name == "postgresql"
    cursor = dbapi.cursor(name="tocsin_reach") if named else dbapi.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()


def _none() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


def sorted_unique(parts: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct ids of the concatenated parts (sort + neighbour test: faster than
    numpy's hash-based unique for ids)."""
    if not parts:
        return _none()
    ids = np.concatenate(parts)
    ids.sort()
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))] if ids.size else ids


@dataclass
class Locations:
    """Every location, sorted by latitude: a box is a slice of `lat` and a test on `lon`."""

    lat: np.ndarray
    lon: np.ndarray
    subscriber: np.ndarray

    def in_boxes(self, boxes) -> np.ndarray:
        """Positions of the locations inside any (west, south, east, north) box, edges included
        (as SQL's BETWEEN), each once."""
        take = np.zeros(self.lat.size, dtype=bool)
        for west, south, east, north in boxes:
            start = np.searchsorted(self.lat, south, side="left")
            end = np.searchsorted(self.lat, north, side="right")
            lon = self.lon[start:end]
            take[start:end] |= (lon >= west) & (lon <= east)
        return np.flatnonzero(take)


@dataclass
class Groups:
    """Per resident (sorted ids), the index of their preview group in `keys`: (language,
    preference JSON, has phone, has email, quiet hours)."""

    ids: np.ndarray
    group: np.ndarray
    keys: list[tuple]

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions in `self.ids` of the given ids that are residents."""
        if not self.ids.size or not ids.size:
            return _none()
        at = np.searchsorted(self.ids, ids).clip(max=self.ids.size - 1)
        return at[self.ids[at] == ids]

    def count(self, ids: np.ndarray | None) -> list[tuple]:
        """(group…, residents) among `ids` (None: everyone), as the preview's GROUP BY."""
        groups = self.group if ids is None else self.group[self.positions(ids)]
        counts = np.bincount(groups, minlength=len(self.keys))
        return [self.keys[k] + (int(counts[k]),) for k in np.flatnonzero(counts)]

    def keys_of(self, ids: np.ndarray) -> dict[int, tuple]:
        """Resident id → their group, for the residents among `ids`."""
        at = self.positions(ids)
        return {int(i): self.keys[g] for i, g in zip(self.ids[at].tolist(), self.group[at].tolist())}


class _Store:
    """The parts of one database, each with the stamp it was read at."""

    def __init__(self):
        self.lock = threading.RLock()  # a part's loader may need another part
        self.parts: dict[str, tuple[tuple, object]] = {}


_stores: dict[str, _Store] = {}
_stores_lock = threading.Lock()


class View:
    """The cache as one preview sees it: the stamps read once, parts loaded when stale."""

    def __init__(self, store: _Store, conn, stamps: dict[str, tuple]):
        self.store, self.conn, self.stamps = store, conn, stamps

    def _part(self, name: str, load):
        stamp = tuple(self.stamps.get(table) for table in _SOURCES[name])
        with self.store.lock:
            kept = self.store.parts.get(name)
            if kept is None or kept[0] != stamp:
                kept = self.store.parts[name] = (stamp, load())
            return kept[1]

    def locations(self) -> Locations:
        return self._part("locations", self._load_locations)

    def testers(self) -> np.ndarray:
        return self._part("testers", lambda: self._ids(
            select(SubscriberGroup.subscriber_id).where(SubscriberGroup.name == TEST_GROUP)))

    def groups(self) -> Groups:
        return self._part("groups", self._load_groups)

    def followers(self, codes) -> np.ndarray:
        """Sorted distinct ids of the residents following any of the zones `codes`."""
        follows = self._part("follows", self._load_follows)
        return sorted_unique([follows[c] for c in codes if c in follows])

    def zone_reach(self, code: str, shape) -> np.ndarray:
        """Sorted ids of the residents with a location inside (or on the edge of) the zone
        `code` whose polygon is `shape`: computed once per change of locations or zones."""
        kept = self._part("zone_reach", dict)
        ids = kept.get(code)
        if ids is None:
            places = self.locations()
            at = places.in_boxes([tuple(float(v) for v in shapely.bounds(shape))])
            hit = shapely.intersects_xy(shape, places.lon[at], places.lat[at])
            ids = kept[code] = sorted_unique([places.subscriber[at[hit]]])
        return ids

    def unplaced(self) -> int:
        """Residents with neither a location nor a zone: no area can reach them."""
        def load():
            follows = self._part("follows", self._load_follows)
            placed = sorted_unique([self.locations().subscriber, *follows.values()])
            return int(self.groups().ids.size - self.groups().positions(placed).size)
        return self._part("unplaced", load)

    def opted_out(self) -> dict[str, np.ndarray]:
        """Channel → sorted ids of the residents whose address for it is on the opt-out ledger."""
        return self._part("opted_out", self._load_opted_out)

    def _load_opted_out(self) -> dict[str, np.ndarray]:
        # Driven from the ledger (small) into subscribers by their unique phone/email index.
        out = {}
        for channel, kind in ADDRESS_OF.items():
            address = Subscriber.phone if kind == "phone" else Subscriber.email
            out[channel] = self._ids(select(Subscriber.id).select_from(OptOut)
                                     .join(Subscriber, address == OptOut.address)
                                     .where(OptOut.channel == channel))
        return out

    def _ids(self, stmt) -> np.ndarray:
        return sorted_unique([np.array(rows, dtype=np.int64).reshape(-1)
                              for rows in raw_chunks(self.conn, stmt)])

    def _load_locations(self) -> Locations:
        blocks = [np.array(rows, dtype=np.float64).reshape(-1, 3) for rows in raw_chunks(
            self.conn, select(Location.lat, Location.lon, Location.subscriber_id))]
        block = np.concatenate(blocks) if blocks else np.empty((0, 3))
        order = np.argsort(block[:, 0], kind="stable")
        block = block[order]
        return Locations(np.ascontiguousarray(block[:, 0]), np.ascontiguousarray(block[:, 1]),
                         block[:, 2].astype(np.int64))

    def _load_follows(self) -> dict[str, np.ndarray]:
        stmt = (select(SubscriberZone.zone_code, SubscriberZone.subscriber_id)
                .order_by(SubscriberZone.zone_code, SubscriberZone.subscriber_id))
        rows = [row for chunk in raw_chunks(self.conn, stmt) for row in chunk]
        return {code: np.array([sub_id for _, sub_id in group], dtype=np.int64)
                for code, group in groupby(rows, key=lambda row: row[0])}

    def _load_groups(self) -> Groups:
        stmt = select(Subscriber.id, Subscriber.language, cast(Subscriber.channels, Text),
                      Subscriber.phone.is_not(None), Subscriber.email.is_not(None),
                      Subscriber.quiet_hours).order_by(Subscriber.id)
        index: dict[tuple, int] = {}
        ids, groups = [], []
        for rows in raw_chunks(self.conn, stmt):
            ids.append(np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)))
            groups.append(np.fromiter((index.setdefault(row[1:], len(index)) for row in rows),
                                      dtype=np.int64, count=len(rows)))
        keys = [(lang, pref, bool(phone), bool(email), quiet)  # SQLite says 1/0, psycopg True/False
                for lang, pref, phone, email, quiet in index]
        return Groups(np.concatenate(ids) if ids else _none(),
                      np.concatenate(groups) if groups else _none(), keys)


def view(session: Session) -> View:
    """The cache of the session's database, as of the stamps the session sees now."""
    conn = session.connection()
    key = conn.engine.url.render_as_string(hide_password=False)
    with _stores_lock:
        store = _stores.setdefault(key, _Store())
    return View(store, conn, reach_stamps.current(conn))
