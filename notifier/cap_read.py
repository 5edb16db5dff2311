"""A peer's CAP 1.2 document read safely: hostile XML refused unread, then CAP 1.2's rules checked.

Documents from partners and feeds are untrusted. lxml never fetches, never loads a DTD, never
expands an entity, keeps its size limits (huge_tree off), and any DOCTYPE is refused outright:
without a DTD there are no entities, so no billion laughs and no external entity reads.
"""
from __future__ import annotations

import re

from lxml import etree

from notifier import cap
from notifier.errors import DocumentTooLarge, InvalidInput, UnreadableDocument

MAX_BYTES = 1024 * 1024
_C = "{%s}" % cap.NS
# "<!DOCTYPE" and "<!ENTITY" in UTF-8 and both UTF-16s, so an encoding switch cannot hide one.
_MARKUP = tuple(word.encode(enc) for word in ("<!DOCTYPE", "<!ENTITY")
                for enc in ("utf-8", "utf-16-le", "utf-16-be"))

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
# CAP 1.2 §3.3.2: a date-time with seconds and a numeric offset (no "Z").
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def _parser() -> etree.XMLParser:
    # A parser per document: lxml parsers keep state and are not shared between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=True)


def read_root(xml: bytes, limit: int = MAX_BYTES):
    """The root element of `xml`, read with every protection on.

    Raises DocumentTooLarge over `limit` bytes, UnreadableDocument({"cap": [...]}) when it is not
    well-formed XML or carries a DOCTYPE, an entity declaration or an entity reference.
    """
    if len(xml) > limit:
        raise DocumentTooLarge({"cap": [f"the document is larger than {limit // 1024} KB"]})
    if any(word in xml for word in _MARKUP):
        raise UnreadableDocument({"cap": ["a DOCTYPE or entity declaration is not accepted: "
                                          "CAP documents need neither"]})
    try:
        root = etree.fromstring(xml, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnreadableDocument({"cap": [f"not well-formed XML: {exc}"]}) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnreadableDocument({"cap": ["a DOCTYPE is not accepted"]})
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UnreadableDocument({"cap": ["entity references are not accepted"]})
    return root


def read_cap(xml: bytes) -> dict:
    """`cap.cap_dict` of a checked CAP 1.2 document.

    Raises what `read_root` raises, and InvalidInput({field: [...]}) (HTTP 422) when it is XML
    but not CAP 1.2: the wrong root or namespace, a required element missing, a value outside
    CAP's vocabularies, a time not in CAP's format.
    """
    root = read_root(xml)
    errors = check(root)
    if errors:
        raise InvalidInput(errors)
    return cap.cap_dict(root)


def check(root) -> dict:
    """{field: [messages]} of what makes `root` not a CAP 1.2 alert (empty when it is one)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(root.tag, str) or root.tag != _C + "alert":
        name = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        namespace = etree.QName(root).namespace if isinstance(root.tag, str) else None
        errors["cap"] = [f"the root element is <{name}>"
                         + (f" in namespace {namespace}" if namespace else " without a namespace")
                         + f", not a CAP 1.2 <alert> ({cap.NS})"]
        return errors
    for name in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        _required(root, name, name, errors)
    _one_of(root, "status", "status", STATUSES, errors)
    _one_of(root, "msgType", "msgType", MSG_TYPES, errors)
    _one_of(root, "scope", "scope", SCOPES, errors)
    _time(root, "sent", "sent", errors)
    for name in ("identifier", "sender"):
        value = _text(root, name)
        if value and (re.search(r"[\s,<&]", value)):
            errors.setdefault(name, []).append("must not contain spaces, commas, < or &")
    for i, info in enumerate(root.findall(_C + "info")):
        where = f"info[{i}]"
        if not info.findall(_C + "category"):
            errors.setdefault(f"{where}.category", []).append("is missing")
        for category in info.findall(_C + "category"):
            if (category.text or "").strip() not in CATEGORIES:
                errors.setdefault(f"{where}.category", []).append(
                    f"{(category.text or '').strip()!r} is not a CAP category: one of "
                    f"{', '.join(CATEGORIES)}")
        for name, vocabulary in (("urgency", URGENCIES), ("severity", SEVERITIES),
                                 ("certainty", CERTAINTIES)):
            _required(info, name, f"{where}.{name}", errors)
            _one_of(info, name, f"{where}.{name}", vocabulary, errors)
        _required(info, "event", f"{where}.event", errors)
        for name in ("effective", "onset", "expires"):
            _time(info, name, f"{where}.{name}", errors)
        for j, area in enumerate(info.findall(_C + "area")):
            _required(area, "areaDesc", f"{where}.area[{j}].areaDesc", errors)
    return errors


def _text(element, name: str) -> str | None:
    child = element.find(_C + name)
    return None if child is None or child.text is None else child.text.strip()


def _required(element, name: str, field: str, errors: dict) -> None:
    if not _text(element, name):
        errors.setdefault(field, []).append("is missing")


def _one_of(element, name: str, field: str, vocabulary, errors: dict) -> None:
    value = _text(element, name)
    if value and value not in vocabulary:
        errors.setdefault(field, []).append(
            f"{value!r} is not one of CAP's values: {', '.join(vocabulary)}")


def _time(element, name: str, field: str, errors: dict) -> None:
    value = _text(element, name)
    if value and not CAP_TIME.match(value):
        errors.setdefault(field, []).append(
            f"{value!r} is not a CAP time (like 2026-11-22T03:00:00-05:00)")
