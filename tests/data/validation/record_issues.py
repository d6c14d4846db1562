"""Record every issue (all severities) the validator finds on the IG examples and the negative fixtures,
and on seeded random mutations of them (elements deleted, replaced by odd values, repeated, renamed,
given a '_name' sibling), which reach the checks the well-formed inputs never fail.

Run from the repo root: python tests/data/validation/record_issues.py
The results, issues-recorded.json and issues-mutated.json, are what tests/test_validation_recorded.py
compares against: a change that makes the validator faster must find exactly the same issues, in the
same order. The validator raises on none of them (bad input gets issues, never a stack trace): the
ten it raised on when first recorded were added with the issues it finds now that it does not.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from allfhir.validation.packages import packages_dir  # noqa: E402
from allfhir.validation.validator import Validator  # noqa: E402

OUT = HERE / "issues-recorded.json"
OUT_MUTATED = HERE / "issues-mutated.json"
SEED = 7
MUTANTS = 2  # per input
# What a mutation puts in place of a value: nothing, wrong JSON types, malformed codes and references.
ODD_VALUES: list[Any] = [
    None, [], {}, "", " x", "bogus", 0, -1, 1.5, True, "2020-13-45", "urn:uuid:nope", [None], [{}],
    {"coding": [{"system": "http://loinc.org", "code": "12345-6"}]}, {"system": "http://loinc.org"},
    {"reference": "#x"}, {"url": "http://example.org/x"}, {"url": "http://example.org/x", "valueString": "a"}]


def inputs() -> list[tuple[str, Path]]:
    """(label, path): IG examples by file name, negative fixtures by file name."""
    examples = sorted((packages_dir() / "ig" / "package" / "example").glob("*.json"))
    fixtures = sorted(HERE.glob("bad-*.json"))
    return [(f"ig/{p.name}", p) for p in examples] + [(f"fixture/{p.name}", p) for p in fixtures]


def issues_of(validator: Validator, path: Path) -> list[list[str]]:
    resource: Any = json.loads(path.read_text(encoding="utf-8"))
    return [[i.severity, i.code, i.check, i.expression, i.message] for i in validator.validate(resource)]


def _spots(node: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key or index) of every value in a JSON document, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield node, key
        yield from _spots(value)


def mutate(doc: Any, rnd: random.Random) -> Any:
    """A copy of `doc` with one to three random edits."""
    doc = copy.deepcopy(doc)
    for _ in range(rnd.randint(1, 3)):
        spots = list(_spots(doc))
        if not spots:
            break
        parent, key = rnd.choice(spots)
        op = rnd.random()
        if op < 0.3:
            del parent[key]
        elif op < 0.6:
            parent[key] = copy.deepcopy(rnd.choice(ODD_VALUES))
        elif op < 0.75 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op < 0.85 and isinstance(parent, dict):
            parent[f"_{key}"] = {"extension": [{"url": "http://x.org", "valueCode": "y"}]}
        elif isinstance(parent, dict):
            parent[f"{key}{rnd.choice(['String', 'Quantity', 'X', 's'])}"] = parent.pop(key)
    return doc


def mutated_inputs() -> list[tuple[str, Any]]:
    """(label, document): MUTANTS seeded mutations of each input, labelled '<input>~<n>'."""
    rnd = random.Random(SEED)
    out = []
    for label, path in inputs():
        doc = json.loads(path.read_text(encoding="utf-8"))
        out += [(f"{label}~{n}", mutate(doc, rnd)) for n in range(MUTANTS)]
    return out


def mutated_issues(validator: Validator, doc: Any) -> list[list[str]]:
    """The issues of a mutated document."""
    return [[i.severity, i.code, i.check, i.expression, i.message] for i in validator.validate(doc)]


def record() -> dict[str, list[list[str]]]:
    validator = Validator()
    return {label: issues_of(validator, path) for label, path in inputs()}


def record_mutated() -> dict[str, list[list[str]]]:
    validator = Validator()
    return {label: mutated_issues(validator, doc) for label, doc in mutated_inputs()}


if __name__ == "__main__":
    OUT.write_text(json.dumps(record(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    OUT_MUTATED.write_text(json.dumps(record_mutated(), indent=0, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    print(f"wrote {OUT_MUTATED}")
