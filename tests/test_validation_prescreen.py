"""allfhir.validation.prescreen: whatever a pre-screen decides (holds or fails), fhirpathpy agrees
with (every decided case of the IG examples, the negative fixtures and real ALLSorts bundles is
re-evaluated); and the native ele-1 check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allfhir.convert import convert
from allfhir.validation.packages import missing_reason, packages_dir
from allfhir.validation.profile import _compiled, _resource_node, element_has_content
from allfhir.validation.validator import Validator

REPO = Path(__file__).resolve().parents[1]
needs_packages = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def _inputs() -> list[dict[str, Any]]:
    examples = sorted((packages_dir() / "ig" / "package" / "example").glob("*.json"))
    fixtures = sorted((REPO / "tests" / "data" / "validation").glob("bad-*.json"))
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    bundles = [b for b in convert([cohort]) if isinstance(b, dict)][:30]
    return [json.loads(p.read_text(encoding="utf-8")) for p in examples + fixtures] + bundles


@needs_packages
def test_every_decided_constraint_holds_under_fhirpath() -> None:
    validator = Validator()
    validator.profiles.audit = audit = []
    for resource in _inputs():
        validator.validate(resource)
    assert len(audit) > 1000
    seen: set[tuple[str, int]] = set()
    disagree = []
    decided_false = 0
    for expr, value, plan, root, holds in audit:
        if (expr, id(value)) in seen:
            continue
        seen.add((expr, id(value)))
        node = value
        if plan.nested or value.get("resourceType") is None:
            node = _resource_node(value, plan.node_type)
        try:
            result = _compiled(expr)(node, {"resource": root, "rootResource": root})
        except Exception:  # unevaluable: it never gave an issue either
            if not holds:
                disagree.append((expr, value))
            continue
        decided_false += not holds
        if (result == [False]) == holds:
            disagree.append((expr, value))
    assert disagree == []
    assert decided_false > 10  # failing decisions are exercised too


@pytest.mark.parametrize(("value", "has"), [
    ({}, False), ({"id": "a"}, False), ({"id": "a", "_id": {"extension": []}}, False),
    ({"code": "x"}, True), ({"coding": []}, False), ({"coding": None}, False),
    ({"id": "a", "extension": [{"url": "u", "valueString": "v"}]}, True),
    ({"_code": {"extension": [{"url": "u", "valueString": "v"}]}}, True), ({"_code": {}}, False),
    ({"_code": {"id": "x"}}, False), ({"value": 0}, True), ({"flag": False}, True),
])
def test_ele_1(value: dict[str, Any], has: bool) -> None:
    assert element_has_content(value) is has
