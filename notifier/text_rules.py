"""Which characters a text field may hold (DESIGN §9): one rule for every schema, form and import.

XML 1.0 cannot carry most C0 controls, lone surrogates or U+FFFE/U+FFFF, so one such character
in an alert once made the Atom feed and every CAP document answer 500; a CR/LF in a headline
became a line of the email header. Input is refused (`check`); rendering stays defensive for
rows stored before the rule (`xml_safe`, `one_line`).
"""
from __future__ import annotations

import re

# Not characters at all, for XML 1.0 and for most software: lone surrogates, U+FFFE, U+FFFF.
_NOT_CHARACTERS = "\ud800-\udfff\ufffe\uffff"
# Unicode category Cc is U+0000-U+001F and U+007F-U+009F.
_MULTI_LINE_BAD = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_NOT_CHARACTERS}]")
_SINGLE_LINE_BAD = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029{_NOT_CHARACTERS}]")
_LINE_BREAK = re.compile("\r\n?")
_BREAKS = frozenset("\n\r\u2028\u2029")
# XML 1.0's Char production, negated: what lxml refuses to put in a document.
_NOT_XML = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_NOT_CHARACTERS}]")
_NOT_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_NOT_CHARACTERS}]+")


def check(text: str, multiline: bool = False) -> str:
    """Return `text` as stored (multi-line: CRLF and lone CR become LF, as a browser's
    textarea sends CRLF); raise ValueError saying which character is refused and where.

    Multi-line fields may hold newlines and tabs; single-line fields only tabs.
    """
    if multiline:
        text = _LINE_BREAK.sub("\n", text)
    bad = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text)
    if bad is None:
        return text
    char, where = bad.group(), bad.start() + 1
    if char in _BREAKS and not multiline:
        raise ValueError(f"Must be a single line: there is a line break at character {where}.")
    raise ValueError(f"Must not contain control characters: U+{ord(char):04X} at character "
                     f"{where}.")


def xml_safe(text: str) -> str:
    """`text` with what XML 1.0 cannot carry replaced: controls by a space, non-characters by
    U+FFFD. (Word's manual line break is a vertical tab: a space reads as intended.)"""
    return _NOT_XML.sub(lambda m: " " if m.group() < " " else "\ufffd", text)


def one_line(text: str) -> str:
    """`text` fit for a mail header: every run of line breaks and other controls is one space."""
    return _NOT_ONE_LINE.sub(" ", text)


def cleaned(text: str, multiline: bool = False) -> str:
    """`text` made to pass `check`: for a peer's text (a CAP import) that is taken, not refused.
    Multi-line: CRLF and CR become LF, other controls a space; single-line: `one_line`."""
    if not multiline:
        return one_line(text).strip()
    return _MULTI_LINE_BAD.sub(" ", _LINE_BREAK.sub("\n", text)).strip()
