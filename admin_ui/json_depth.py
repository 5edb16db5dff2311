"""How deeply a JSON body nests, measured before parsing it (DESIGN §9: deeper than 100 → 400).

Python's json parser recurses: 100,000 `[` raise RecursionError (a 500), and a few hundred
levels that do parse would recurse again in every schema walking them. The check runs at C
speed (`bytes.replace` drops escapes, `bytes.translate` keeps quotes and brackets, numpy sums
them in chunks), so a 20 MB import pays milliseconds rather than a Python loop over each byte.
"""
from __future__ import annotations

import numpy as np

MAX_DEPTH = 100
_KEPT = b'"[]{}'
_NOT_KEPT = bytes(b for b in range(256) if b not in _KEPT)
_QUOTE, _OPENERS = ord('"'), (ord("["), ord("{"))
_CHUNK = 1 << 20  # bounds the arrays' memory whatever the body's size


def nested_deeper_than(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the arrays and objects in the JSON text `data` nest more than `limit` deep.

    Brackets inside strings are text, not nesting. Malformed text is measured as it stands
    (the parser refuses it anyway).
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    # Escapes pair from the left as JSON reads them: `\\` is a backslash, then `\"` a quote
    # inside a string; neither starts or ends one.
    marks = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_KEPT)
    depth, quotes = 0, 0
    for start in range(0, len(marks), _CHUNK):
        chunk = np.frombuffer(marks, np.uint8, min(_CHUNK, len(marks) - start), start)
        is_quote = chunk == _QUOTE
        seen = np.cumsum(is_quote, dtype=np.int64) + quotes  # an odd count: inside a string
        outside = ~is_quote & (seen % 2 == 0)
        opens = (chunk == _OPENERS[0]) | (chunk == _OPENERS[1])
        levels = np.cumsum(np.where(outside, np.where(opens, 1, -1), 0), dtype=np.int64) + depth
        if int(levels.max()) > limit:
            return True
        depth, quotes = int(levels[-1]), int(seen[-1])
    return False
