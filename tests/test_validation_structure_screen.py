"""allfhir.validation.structure_screen: whatever the screen passes, the fhir.resources parse accepts
(every input and every Bundle entry of the IG examples, the negative fixtures, real ALLSorts
bundles and seeded mutations of them; primitives at the edges of each type), and it does pass the
well-formed ones."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from allfhir.convert import convert
from allfhir.validation.packages import missing_reason, packages_dir
from allfhir.validation.structure_screen import certainly_valid, resource_model

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "validation"
needs_packages = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def _parses(doc: dict[str, Any]) -> bool:
    try:
        resource_model(doc["resourceType"]).model_validate(doc)
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError):
        return False
    return True


def _mutated() -> list[Any]:
    spec = importlib.util.spec_from_file_location("record_issues", DATA / "record_issues.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [doc for _label, doc in module.mutated_inputs()]


@needs_packages
def test_what_the_screen_passes_the_parse_accepts() -> None:
    examples = sorted((packages_dir() / "ig" / "package" / "example").glob("*.json"))
    docs: list[Any] = [json.loads(p.read_text(encoding="utf-8"))
                       for p in examples + sorted(DATA.glob("bad-*.json"))]
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    docs += [b for b in convert([cohort]) if isinstance(b, dict)][:20]
    docs += _mutated()
    resources = [d for d in docs if isinstance(d, dict)]
    resources += [e["resource"] for d in resources if d.get("resourceType") == "Bundle"
                  for e in d.get("entry") or []
                  if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    judged = [(r, certainly_valid(r, resource_model(r["resourceType"]))) for r in resources
              if isinstance(r.get("resourceType"), str) and resource_model(r["resourceType"]) is not None]
    passed = [r for r, ok in judged if ok]
    assert [r for r in passed if not _parses(r)] == []
    assert len(passed) > 600  # it does pass the well-formed ones ...
    assert sum(1 for r, ok in judged if not ok and not _parses(r)) > 50  # ... and not the broken ones


# (resource type, JSON key, a value the screen passes, a value it leaves to the parse)
EDGES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("Observation", "effectiveDateTime",
     ["2020", "2020-02", "2020-02-29", "2019-12-31T23:59:59Z", "2020-01-01T00:00:00.123456+14:00",
      "0001-01-01", "2020-06-01T10:00:00-05:30"],
     ["2021-02-29", "2020-01-01T10:00:00", "2016-12-31T23:59:60Z", "2020-01-01T00:00:00.1234567Z",
      "2020-13", "20200101", "", 2020, None, "2020-01-01T24:00:00Z"]),
    ("Observation", "issued", ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00.5+01:00"],
     ["2020-01-01", "2020", "2020-01-01T00:00:00"]),
    ("Patient", "birthDate", ["1973", "1973-06", "1905-08-23"], ["1905-08-32", "1905-08-23T00:00:00Z"]),
    ("Observation", "valueInteger", [0, -2147483648, 2147483647], [2147483648, True, 1.0, "1"]),
    ("Observation", "valueString", ["x", " a b ", "ü-1"], ["", " ", "\u00e9", 1, ["x"]]),
    ("Observation", "status", ["final", "a b"], ["a  b", " final", "fin\u00e9", "", "x\ty"]),
    ("Observation", "id", ["a-1.B", "x" * 64], ["x" * 65, "a_b", "", "a b"]),
    ("Observation", "implicitRules", ["http://e.org/a?b=c#d", "urn:uuid:1"], ["http://e.org/a b", ""]),
    ("Observation", "language", ["en-GB"], ["en GB "]),
]


@needs_packages
@pytest.mark.parametrize(("rtype", "key", "plain", "other"), EDGES, ids=[f"{e[0]}.{e[1]}" for e in EDGES])
def test_primitive_edges(rtype: str, key: str, plain: list[Any], other: list[Any]) -> None:
    model = resource_model(rtype)
    base: dict[str, Any] = {"resourceType": rtype}
    if rtype == "Observation":
        base |= {"status": "final", "code": {"text": "t"}}
    judged = {json.dumps(v): certainly_valid(base | {key: v}, model) for v in plain + other}
    assert [v for v in plain if not judged[json.dumps(v)]] == []
    assert [v for v in other if judged[json.dumps(v)]] == []
    for v in plain:
        assert _parses(base | {key: v}), v


@needs_packages
@pytest.mark.parametrize(("value", "plain"), [
    (1.5, True), (0, True), (-3, True), (1e-05, True), (1.5e+20, True), (10 ** 15, False),
    (float("nan"), False), (True, False), ("1.5", False),
])
def test_decimal_edges(value: Any, plain: bool) -> None:
    doc = {"resourceType": "Observation", "status": "final", "code": {"text": "t"},
           "valueQuantity": {"value": value, "unit": "1"}}
    assert certainly_valid(doc, resource_model("Observation")) is plain
    if plain:
        assert _parses(doc)


@needs_packages
@pytest.mark.parametrize(("data", "plain"), [
    ("aGk=", True), ("aGVsbG8=", True), ("aGVsbG8h", True), ("aGk", False), ("a Gk=", False),
    ("", False), ("not base64!!", False),
])
def test_base64_edges(data: str, plain: bool) -> None:
    doc = {"resourceType": "DocumentReference", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain", "data": data}}]}
    assert certainly_valid(doc, resource_model("DocumentReference")) is plain
    if plain:
        assert _parses(doc)


@needs_packages
@pytest.mark.parametrize("doc", [
    {"resourceType": "Observation", "code": {"text": "t"}},  # status is required
    {"resourceType": "Observation", "status": "final"},  # code is required
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "valueString": "a",
     "valueInteger": 1},  # one value[x] at most
    {"resourceType": "Observation", "status": "final", "code": {}},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "category": []},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "category": {"text": "c"}},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "note": [None]},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "_status": {"id": "a"}},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t", "resourceType": "X"}},
    {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, "unknown": 1},
    {"resourceType": "Patient", "status": "final"},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Nope"}}]},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"id": "x"}}]},
])
def test_what_the_screen_leaves_to_the_parse(doc: dict[str, Any]) -> None:
    assert certainly_valid(doc, resource_model(doc["resourceType"])) is False
