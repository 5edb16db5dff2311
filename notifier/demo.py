"""A sample town for trying Tocsin: four police beats and a few thousand residents, always the same."""
from __future__ import annotations

import random
import unicodedata
from datetime import datetime

import phonenumbers


TOWN = "Harbor Falls"
CENTRE = (42.36, -71.06)  # lat, lon of the town hall
HALF_LAT, HALF_LON = 0.02, 0.03  # the town is about 4.4 km × 5 km
RESIDENTS = 3000
TEST_GROUP = 20
SEED = 1789  # a fixed seed: running the demo again refreshes the same people

# (language, share) — roughly a coastal New England city's household languages.
LANGUAGES = (("en", 0.60), ("es", 0.18), ("zh-Hans", 0.07), ("vi", 0.05), ("ht", 0.05),
             ("pt", 0.05))
NAMES = {
    "en": (("James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily", "Kevin",
            "Megan"), ("Sullivan", "Murphy", "Smith", "Johnson", "Brown", "Walsh", "Kelly",
                       "Anderson", "Clark", "Lee")),
    "es": (("Ana", "Carlos", "María", "José", "Lucía", "Javier", "Sofía", "Miguel", "Isabel",
            "Luis"), ("García", "Rodríguez", "Martínez", "Hernández", "López", "Gómez", "Pérez",
                      "Sánchez", "Ramírez", "Torres")),
    "zh-Hans": (("Wei", "Fang", "Jing", "Lei", "Min", "Hui", "Yan", "Jun", "Xiu", "Tao"),
           ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Lin")),
    "vi": (("Anh", "Linh", "Minh", "Thảo", "Huy", "Ngọc", "Tuấn", "Lan", "Dũng", "Hương"),
           ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh")),
    "ht": (("Jean", "Marie", "Pierre", "Guerda", "Wilner", "Nadège", "Jacques", "Rose", "Ernst",
            "Fabiola"), ("Joseph", "Pierre", "Jean-Baptiste", "Louis", "Charles", "Desir",
                         "Étienne", "Toussaint", "Augustin", "Celestin")),
    "pt": (("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Rafael", "Camila", "Tiago",
            "Larissa"), ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Ferreira",
                         "Almeida", "Carvalho", "Medeiros")),
}
# NANPA keeps 555-0100…0199 for fiction in every area code; phonenumbers accepts them as valid
# US numbers, so the demo reaches nobody real even if someone sends through a live account.
# Lines 0100-0109 stay free for people trying the API by hand (the README uses 555-0100).
FIRST_LINE = 110
AREA_CODES = ("617", "857", "781", "339", "508", "774", "978", "351", "413", "401", "603",
              "207", "802", "860", "203", "475", "212", "646", "718", "347", "917", "201",
              "973", "215", "267", "202", "301", "410", "305", "312", "404", "512", "415",
              "503", "206", "303", "602", "702", "713", "214")


def beats() -> list[dict]:
    """The four police beats, quadrants around the town centre, as zone dicts with GeoJSON."""
    lat0, lon0 = CENTRE
    south, north = lat0 - HALF_LAT, lat0 + HALF_LAT
    west, east = lon0 - HALF_LON, lon0 + HALF_LON
    boxes = {
        "beat-1": ("Beat 1 – North End", lat0, north, west, lon0),
        "beat-2": ("Beat 2 – Harborside", lat0, north, lon0, east),
        "beat-3": ("Beat 3 – Downtown", south, lat0, west, lon0),
        "beat-4": ("Beat 4 – South Bay", south, lat0, lon0, east),
    }
    zones = []
    for code, (name, s, n, w, e) in boxes.items():
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]  # counter-clockwise, closed
        zones.append({"code": code, "name": name, "keywords": [code.replace("-", "").upper()],
                      "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "bbox": (s, w, n, e)})
    return zones


def load_zones(session, now: datetime) -> int:
    """Create or refresh the beats; return how many there are."""
    from notifier.zones import put_zone

    zones = beats()
    for data in zones:
        put_zone(session, data["code"], {k: data[k] for k in ("name", "geometry", "keywords")}, now)
    return len(zones)


def demo_phone_numbers() -> list[str]:
    """Fictional US numbers that pass phonenumbers.is_valid_number, in E.164."""
    numbers = []
    for npa in AREA_CODES:
        for line in range(FIRST_LINE, 200):
            number = phonenumbers.parse(f"+1{npa}5550{line:03d}")
            if phonenumbers.is_valid_number(number):
                numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def residents(count: int = RESIDENTS) -> list[dict]:
    """`count` residents as subscriber objects (DESIGN §4), the same list on every call."""
    rng = random.Random(SEED)
    phones = demo_phone_numbers()
    rng.shuffle(phones)
    zones = beats()
    rows = []
    for i in range(count):
        language = _pick(rng, LANGUAGES)
        given, family = (rng.choice(part) for part in NAMES[language])
        home = rng.choice(zones)
        row = {"name": f"{given} {family}", "language": language,
               "locations": [{"label": "home", **_point_in(rng, home["bbox"])}]}
        kind = rng.random()
        email = f"{_ascii(given)}.{_ascii(family)}.{i}@example.org"
        if kind < 0.08 or i >= len(phones):  # email only
            row.update(email=email, channels=["email"])
        elif kind < 0.20:  # a landline: prefers a call
            row.update(phone=phones[i], channels=["voice"])
        elif kind < 0.45:
            row.update(phone=phones[i], email=email, channels=["sms", "email"])
        else:
            row.update(phone=phones[i], channels=["sms"])
        if rng.random() < 0.2:
            work = rng.choice(zones)
            row["locations"].append({"label": "work", **_point_in(rng, work["bbox"])})
        if rng.random() < 0.3:  # follows a zone, usually their own beat
            followed = home if rng.random() < 0.7 else rng.choice(zones)
            row["zones"] = [followed["code"]]
        if i < TEST_GROUP:
            row["groups"] = ["test", "staff"] if i < 5 else ["test"]
        rows.append(row)
    return rows


def _pick(rng: random.Random, weighted) -> str:
    roll, total = rng.random(), 0.0
    for value, share in weighted:
        total += share
        if roll < total:
            return value
    return weighted[0][0]


def _point_in(rng: random.Random, bbox) -> dict:
    s, w, n, e = bbox
    margin = 0.001  # keep homes off the beat borders, so a home is in exactly one beat
    return {"lat": round(rng.uniform(s + margin, n - margin), 6),
            "lon": round(rng.uniform(w + margin, e - margin), 6)}


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if c.isascii() and c.isalnum()).lower()
