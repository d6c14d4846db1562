"""Systematic mutations of the IG examples and the negative fixtures, and the ones the validator
raises on (house rule: bad input gets an OperationOutcome, never a stack trace).

Unlike record_issues.py's seeded random edits, every element of every input is edited in each way
a client can get the JSON wrong: deleted, replaced by a value of another JSON type (a string where
an object is expected, an object where a list is, a number where a string is ...), wrapped in a
list, unwrapped from its list, repeated, renamed, given a '_name' sibling (well-formed or not). An
element path met again under the same resource types and profiles, at another repetition or in a
later input (entry[3] and entry[4] both holding a variant's code), is edited only where it is
first met, which keeps the run to minutes (1,893 element shapes, 30,312 mutations; 4-5 CPU
minutes). On the validator before its malformed-input fixes it found about 100 crashing mutations
at 8 places (TypeError, AttributeError); now none.

Run from the repo root: python tests/data/validation/find_crashes.py [--limit N]
It prints each crashing mutation and a summary by crash site (the innermost allfhir frame);
tests/test_validation_malformed.py validates every 60th and one input per former crash site.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))

from record_issues import inputs  # noqa: E402

from allfhir.validation.validator import Validator  # noqa: E402

Path_ = tuple[str | int, ...]

# A value of each JSON type, in place of one of another type.
_OTHER: dict[type, list[Any]] = {
    dict: ["x", 1, True, [], ["x"], None],
    list: [{}, {"x": 1}, "x", 1, [None], [[]], ["x"], None],
    str: [1, 1.5, True, {}, {"x": "y"}, [], None, ""],
    int: ["1", {}, [1], None, 1.5, True],
    float: ["1.5", {}, None, 1],
    bool: ["true", 0, {}, None],
}
_SIBLINGS: list[Any] = [{"extension": [{"url": "http://x.org", "valueCode": "y"}]}, "x", [1], {"x": 1}, None]


def _spots(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from _spots(value, (*path, key))


def _shape(doc: Any, path: Path_) -> tuple[Any, ...]:
    """The path without its list indexes, with the resourceType and profiles of each resource on
    the way (the same element in another repetition is walked the same way, so once is enough)."""
    out: list[Any] = []
    node = doc
    for part in path:
        if isinstance(node, dict) and isinstance(node.get("resourceType"), str):
            # The profiles decide which definitions walk the element (slices, extensions).
            meta = node.get("meta")
            profiles = meta.get("profile") if isinstance(meta, dict) else None
            out.append((node["resourceType"], json.dumps(profiles)))
        if not isinstance(part, int):
            out.append(part)
        node = node[part]
    return tuple(out)


def _edits(value: Any, key: str | int) -> Iterator[tuple[str, Any]]:
    """(name, how) of the edits of one value; `how` is applied by _apply."""
    yield "delete", None
    for other in _OTHER.get(type(value), []):
        yield f"replace:{json.dumps(other)}", ("replace", other)
    yield "wrap", ("replace", [value])
    if isinstance(value, list) and value:
        yield "unwrap", ("replace", value[0])
        yield "repeat", ("append", value[0])
    if isinstance(key, str):
        yield "rename", ("rename", f"{key}X")
        if not key.startswith("_"):
            for sib in _SIBLINGS:
                yield f"sibling:{json.dumps(sib)}", ("sibling", sib)


def _apply(doc: Any, path: Path_, how: Any) -> Any:
    out = copy.deepcopy(doc)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if how is None:
        del parent[key]
    elif how[0] == "replace":
        parent[key] = copy.deepcopy(how[1])
    elif how[0] == "append":
        parent[key].append(copy.deepcopy(how[1]))
    elif how[0] == "rename":
        parent[how[1]] = parent.pop(key)
    else:
        parent[f"_{key}"] = copy.deepcopy(how[1])
    return out


def location(path: Path_) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def mutations() -> Iterator[tuple[str, Any]]:
    """(label, document): '<input> <location> <edit>' for every edit of every element shape."""
    seen: set[tuple[Any, ...]] = set()
    for label, file in inputs():
        doc = json.loads(file.read_text(encoding="utf-8"))
        for path in _spots(doc):
            shape = _shape(doc, path)
            if shape in seen:
                continue
            seen.add(shape)
            parent = doc
            for part in path[:-1]:
                parent = parent[part]
            for name, how in _edits(parent[path[-1]], path[-1]):
                yield f"{label} {location(path)} {name}", _apply(doc, path, how)


def crash_site(exc: BaseException) -> str:
    """The innermost frame in allfhir's own code: file:line function."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/allfhir/" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{re.sub(r'.*/allfhir/', '', f.filename)}:{f.lineno} {f.name}"


def crashes(limit: int | None = None) -> Iterator[tuple[str, Any, BaseException]]:
    validator = Validator()
    for n, (label, doc) in enumerate(mutations()):
        if limit is not None and n >= limit:
            return
        try:
            validator.validate(doc)
        except Exception as exc:  # what this script looks for
            yield label, doc, exc


if __name__ == "__main__":
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    sites: Counter[str] = Counter()
    for label, _doc, exc in crashes(limit):
        site = crash_site(exc)
        sites[f"{type(exc).__name__} at {site}"] += 1
        print(f"{label}: {type(exc).__name__}: {exc} [{site}]", flush=True)
    print(f"\n{sum(sites.values())} crashing mutations")
    for site, n in sites.most_common():
        print(f"{n:6d}  {site}")
