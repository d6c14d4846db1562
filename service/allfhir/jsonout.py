"""JSON text of the resources we emit: orjson, byte for byte what the stdlib writes.

Determinism is a promise (same input, byte-identical output), and the output existed before
orjson did: the reference form is `json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`.
orjson writes that same text, and does it several times faster, except in three cases it spells
differently; those few documents are written by the stdlib instead (so the bytes never change):
- a float below 1e-4 in magnitude: orjson writes 0.00003 and 1.234e-7 where the stdlib writes
  3e-05 and 1.234e-07;
- NaN / Infinity: orjson writes null, the stdlib NaN / Infinity (the adapters reject them, so
  this is a guard, not a path that runs);
- what orjson refuses (integers beyond 64 bits, non-string keys).
The check is a scan of the bytes orjson wrote; a false alarm (a string that looks like such a
number, or a 'null') only costs the slower, identical path. The scan costs more than orjson's own
writing of a report Bundle, so a document whose floats were checked where they came in (`vouch`:
the Bundle builder checks the sample's floats, the only ones a report carries) is written without
it, when it is the next document written (as the CLI streams them).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar

import orjson

T = TypeVar("T")

# An exponent as orjson writes one for a small float (1.234e-7,): searched by its literal "e-", which
# is fast; a string that happens to match only costs the slower, identical path.
_EXPONENT = re.compile(rb"e-\d+[,}\]]")


# The one document vouched for (`vouch`): written next without the scan. Held until then, or
# until another is vouched for, never longer: at most one document is kept alive by it.
_vouched: object = None


def vouch(obj: T) -> T:
    """Mark `obj`, a document whose every float is one orjson writes as the stdlib does (see
    `plain_floats`), to be written without the scan the next time it is written. Whoever
    vouches for it changes no float of it before then. Another thread's vouching only makes a
    document take the scan (the same bytes), never skip it."""
    global _vouched
    _vouched = obj
    return obj


def detached(doc: T, plain: bool) -> T:
    """A copy of `doc` that shares no object with it or with anything else: through orjson's
    text when `plain` (its floats are finite, see `plain_floats`, so each reads back as the same
    float), else `copy.deepcopy`. The copy of a plain document is vouched for."""
    if plain:
        try:
            return vouch(orjson.loads(orjson.dumps(doc)))
        except TypeError:  # what orjson does not write (an integer beyond 64 bits)
            pass
    return copy.deepcopy(doc)


def plain_floats(values: Iterable[float]) -> bool:
    """True when orjson writes every one of `values` as the stdlib does: 0, or finite and at
    least 1e-4 in magnitude (below that orjson writes 0.0000x / 1.2e-7, the stdlib 1e-05 / 1.2e-07;
    NaN and infinities it writes as null). tests/test_jsonout.py checks the rule on random floats."""
    for v in values:
        # 0.0 is false; NaN fails every comparison and inf the upper bound
        if v and not 1e-4 <= abs(v) < _INF:
            return False
    return True


_INF = float("inf")


def _stdlib(obj: Any, sort_keys: bool = False) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=sort_keys).encode("utf-8")


def dumps_bytes(obj: Any, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON, key order as built (or sorted: the stdlib's `sort_keys=True`; orjson
    sorts by the keys' UTF-8 bytes, which is the order of their code points)."""
    try:
        out = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:  # orjson.JSONEncodeError: a value orjson does not write the stdlib's way
        return _stdlib(obj, sort_keys)
    global _vouched
    if obj is _vouched:
        _vouched = None
        return out
    # 0.0000x: orjson's spelling of a float in [1e-5, 1e-4); null: NaN / Infinity (ours write no null).
    if b"0.0000" in out or b"null" in out or _EXPONENT.search(out):
        return _stdlib(obj, sort_keys)
    return out


def dumps(obj: Any) -> str:
    return dumps_bytes(obj).decode("utf-8")
