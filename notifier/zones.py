"""Zone records (police beats, ZIP code areas, evacuation zones): create, replace, import, list.

A zone's polygon passes the same strict checks as a dispatcher's drawn area (never repaired);
its bounding box is stored beside it so the audience prefilter never has to parse GeoJSON.
SMS keywords are upper-cased and belong to one zone only.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from notifier import broadcast, geojson, keywords as sms_keywords, text_rules
from notifier.errors import InvalidInput, NotFound
from notifier.models import SubscriberZone, Topic, Zone

_ZIP_PLUS_4 = re.compile(r"^(\d{5})-\d{4}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # safe in a URL path and an SMS reply
KEYWORD = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,29}$")
MAX_NAME = 200


def put_zone(session: Session, code: str, data: dict, now: datetime) -> tuple[Zone, bool]:
    """Create or replace zone `code` from {"name", "geometry", "keywords"?}; return (zone, created).

    Raises InvalidInput naming each bad field (geometry problems say what and where).
    """
    return _put(session, code, data, now, _keyword_owners(session))


def import_zones(session: Session, collection, now: datetime,
                 progress: Callable[[int], None] | None = None) -> dict:
    """Create or replace zones from a GeoJSON FeatureCollection (`properties.code`, `.name`,
    optional `.keywords`); return {"created", "updated", "rejected": [{"feature", "code", "errors"}]}.

    Bad features never stop good ones. `progress(n)` is called after each feature.
    Raises InvalidInput when the body is not a FeatureCollection at all.
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        raise InvalidInput({"_schema": ["expected a GeoJSON FeatureCollection with a features list"]})
    result = {"created": 0, "updated": 0, "rejected": []}
    owners = _keyword_owners(session)
    seen: dict[str, int] = {}
    for i, feature in enumerate(collection["features"]):
        code = None
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise InvalidInput({"_schema": ["must be a GeoJSON Feature"]})
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                raise InvalidInput({"properties": ["must be an object"]})
            code = props.get("code")
            if isinstance(code, str) and code in seen:
                raise InvalidInput({"code": [f"{code!r} is also the code of feature {seen[code]}"]})
            data = {"name": props.get("name"), "geometry": feature.get("geometry"),
                    "keywords": props.get("keywords") or []}
            with session.begin_nested():
                _, created = _put(session, code, data, now, owners)
            seen[code] = i
            result["created" if created else "updated"] += 1
        except InvalidInput as exc:
            result["rejected"].append({"feature": i, "code": code if isinstance(code, str) else None,
                                       "errors": exc.errors})
        if progress:
            progress(1)
    return result


def get_zone(session: Session, code: str) -> Zone:
    """The zone; raises NotFound."""
    zone = session.get(Zone, code)
    if zone is None:
        raise NotFound(f"no zone {code!r}")
    return zone


def delete_zone(session: Session, code: str) -> int:
    """Delete the zone and its followers' links; return how many residents followed it.

    Raises NotFound. Residents stay; they simply no longer follow this zone.
    """
    zone = get_zone(session, code)
    followers = session.execute(delete(SubscriberZone).where(SubscriberZone.zone_code == code)).rowcount
    session.delete(zone)
    session.flush()
    return followers or 0


def list_zones(session: Session, page: int = 1, per_page: int = 50) -> tuple[list[Zone], int]:
    """One page of zones by code, and the total count."""
    total = session.scalar(select(func.count()).select_from(Zone))
    zones = session.scalars(select(Zone).order_by(Zone.code)
                            .limit(per_page).offset((page - 1) * per_page)).all()
    return list(zones), total


def find_zone(session: Session, text: str | None):
    """The zone (code, name) whose code, or one of whose keywords, `text` is; ZIP+4 counts as
    its ZIP. Only three columns are read: geometries can be large."""
    wanted = sms_keywords.normalize(text or "")
    match = _ZIP_PLUS_4.match(wanted)
    if match:
        wanted = match.group(1)
    if not wanted:
        return None
    for zone in session.execute(select(Zone.code, Zone.name, Zone.keywords).order_by(Zone.code)):
        names = [zone.code, *(zone.keywords or [])]
        if any(sms_keywords.normalize(str(n)) == wanted for n in names):
            return zone
    return None


def follower_counts(session: Session, codes: list[str]) -> dict[str, int]:
    """Residents following each of `codes` (0 when none)."""
    rows = session.execute(select(SubscriberZone.zone_code, func.count())
                           .where(SubscriberZone.zone_code.in_(codes))
                           .group_by(SubscriberZone.zone_code)) if codes else []
    counts = dict.fromkeys(codes, 0)
    counts.update({code: n for code, n in rows})
    return counts


def zone_dict(zone: Zone, followers: int | None = None) -> dict:
    """The API's view of a zone; `bbox` is [west, south, east, north]."""
    out = {"code": zone.code, "name": zone.name, "geometry": zone.geometry,
           "keywords": list(zone.keywords or []),
           "social_urls": [shown_account(u) for u in zone.social_urls or []],
           "bbox": None if zone.min_lon is None else [zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat],
           "created_at": _iso(zone.created_at), "updated_at": _iso(zone.updated_at)}
    if followers is not None:
        out["followers"] = followers
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _keyword_owners(session: Session) -> dict[str, str]:
    """Keyword → code of the zone it belongs to (zones are few enough to read whole)."""
    owners = {}
    for code, keywords in session.execute(select(Zone.code, Zone.keywords)):
        for keyword in keywords or []:
            owners[keyword] = code
    return owners


def _put(session: Session, code, data: dict, now: datetime, owners: dict[str, str]) -> tuple[Zone, bool]:
    if not isinstance(data, dict):
        raise InvalidInput({"_schema": ["the zone must be an object"]})
    errors: dict[str, list[str]] = {}
    # fullmatch: `$` alone lets a trailing newline through.
    if not isinstance(code, str) or not CODE.fullmatch(code):
        errors["code"] = ["must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"]
    if "code" in data and data["code"] != code:
        errors["code"] = [f"the body says {data['code']!r} but the address says {code!r}"]
    unknown = set(data) - {"name", "geometry", "keywords", "code", "social_urls"}
    if unknown:
        errors["_schema"] = [f"unknown field(s): {', '.join(sorted(unknown))}"]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        errors["name"] = [f"is required: text of 1-{MAX_NAME} characters"]
    else:
        try:
            name = text_rules.check(name.strip())
        except ValueError as exc:
            errors["name"] = [str(exc)]
    shape = None
    if data.get("geometry") is None:
        errors["geometry"] = ["is required: a GeoJSON Polygon or MultiPolygon"]
    else:
        try:
            shape = geojson.parse_geometry(data["geometry"], "geometry")
        except InvalidInput as exc:
            errors.update(exc.errors)
    topic_words = _topic_words(session)
    keywords = _keywords(data.get("keywords", []), code, owners, errors, topic_words)
    if isinstance(code, str) and sms_keywords.normalize(code) in topic_words:
        errors["code"] = [f"{code} is already the code or keyword of topic "
                          f"{topic_words[sms_keywords.normalize(code)]!r}"]
    current = session.get(Zone, code) if isinstance(code, str) else None
    accounts = _social_urls(data.get("social_urls"), current.social_urls if current else None,
                            errors)
    if errors:
        raise InvalidInput(errors)
    zone = session.get(Zone, code)
    created = zone is None
    if created:
        zone = Zone(code=code, created_at=now)
        session.add(zone)
    for keyword, owner in list(owners.items()):  # keywords this zone gives up become free
        if owner == code and keyword not in keywords:
            del owners[keyword]
    zone.name, zone.geometry, zone.keywords = name, data["geometry"], keywords
    zone.social_urls = accounts
    zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat = (float(v) for v in shape.bounds)
    zone.updated_at = now
    session.flush()
    owners.update(dict.fromkeys(keywords, code))
    return zone, created


def _topic_words(session: Session) -> dict[str, str]:
    """Normalized topic code or keyword → the topic's code: JOIN <word> must mean one thing."""
    return {sms_keywords.normalize(str(word)): code
            for code, words in session.execute(select(Topic.code, Topic.keywords))
            for word in [code, *(words or [])]}


def _keywords(raw, code, owners: dict[str, str], errors: dict,
              topic_words: dict[str, str]) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        errors["keywords"] = ["must be a list of words"]
        return []
    out, problems = [], []
    for keyword in dict.fromkeys(k.strip().upper() for k in raw):
        if not KEYWORD.fullmatch(keyword):
            problems.append(f"{keyword!r} must be one word of letters and digits (at most 30)")
        elif sms_keywords.is_command_word(keyword):
            # STOP, HELP, JOIN, language names…: the SMS conversation would never see the zone.
            problems.append(f"{keyword} is already an SMS command word")
        elif sms_keywords.normalize(keyword) in topic_words:
            problems.append(f"{keyword} is already the keyword of topic "
                            f"{topic_words[sms_keywords.normalize(keyword)]!r}")
        elif owners.get(keyword, code) != code:
            problems.append(f"{keyword} is already the keyword of zone {owners[keyword]!r}")
        else:
            out.append(keyword)
    if problems:
        errors["keywords"] = problems
    return out


def shown_account(line: str) -> str:
    """A zone's account as the API and pages show it: `es: mastodon://host #3fa2`."""
    language, url = broadcast.parse_social_line(line)
    return f"{language}: {broadcast.mask(url)}" if language else broadcast.mask(url)


def _social_urls(raw, existing: list | None, errors: dict) -> list[str]:
    """The zone's Apprise targets (`LANG: url` allowed). Omitted, they stay as they were; a
    masked one sent back (as GET shows it) stands for the stored one it masks."""
    existing = list(existing or [])
    if raw is None:
        return existing
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        errors["social_urls"] = ["must be a list of Apprise URLs such as mastodon://token@host"]
        return existing
    by_mask = {shown_account(u): u for u in existing}
    out, problems = [], []
    for line in (u.strip() for u in raw if u.strip()):
        if line in by_mask:
            out.append(by_mask[line])
        elif " #" in line:
            problems.append(f"{line} is masked and is not one of this zone's accounts: "
                            "send the full URL")
        elif "://" not in broadcast.parse_social_line(line)[1]:
            problems.append(f"{line[:40]} is not an Apprise URL (scheme://…)")
        else:
            out.append(line)
    if problems:
        errors["social_urls"] = problems
    return list(dict.fromkeys(out))
