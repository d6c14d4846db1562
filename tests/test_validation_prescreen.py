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


EXT_1 = "extension.exists() != value.exists()"
QTY_3 = "code.empty() or system.exists()"
ATT_1 = "data.empty() or contentType.exists()"
BDL_10 = "type = 'document' implies (timestamp.hasValue())"


@needs_packages
@pytest.mark.parametrize(("expr", "node_type", "node", "decided"), [
    (EXT_1, "Extension", {"url": "u", "valueString": "v"}, True),
    (EXT_1, "Extension", {"url": "u", "valueBoolean": False}, True),
    (EXT_1, "Extension", {"url": "u", "valueInteger": 0}, True),
    (EXT_1, "Extension", {"url": "u", "valueCodeableConcept": {"text": "t"}}, True),
    (EXT_1, "Extension", {"url": "u", "extension": [{"url": "a", "valueCode": "c"}]}, True),
    (EXT_1, "Extension", {"url": "u", "extension": [{"url": "a"}], "valueString": "v"}, False),
    (EXT_1, "Extension", {"url": "u"}, False),
    (EXT_1, "Extension", {"url": "u", "valueString": ""}, None),
    (EXT_1, "Extension", {"url": "u", "valueFoo": "v"}, None),
    (EXT_1, "Extension", {"url": "u", "_valueString": {"id": "x"}}, None),
    (EXT_1, "Extension", {"url": "u", "valueString": "v", "valueCode": "c"}, None),
    (EXT_1, "Extension", {"url": "u", "extension": []}, None),
    (EXT_1, "Extension", {"url": "u", "extension": [{}], "valueString": "v"}, None),
    (QTY_3, "Quantity", {"value": 1}, True),
    (QTY_3, "Quantity", {"code": "mg", "system": "http://unitsofmeasure.org"}, True),
    (QTY_3, "Quantity", {"code": "mg"}, None),
    (QTY_3, "Quantity", {"code": "mg", "system": ""}, None),
    (ATT_1, "Attachment", {"data": "aGk=", "contentType": "text/plain"}, True),
    (ATT_1, "Attachment", {"data": "aGk="}, None),
])
def test_new_screens_agree_with_fhirpath(expr: str, node_type: str, node: dict[str, Any],
                                          decided: bool | None) -> None:
    from allfhir.validation.prescreen import SCREENS

    assert SCREENS[expr](node, node) is decided
    if decided is not None:
        typed = node if "resourceType" in node else _resource_node(node, node_type)
        result = _compiled(expr)(typed, {"resource": node, "rootResource": node})
        assert (result != [False]) is decided


def test_bdl_10_holds_for_a_bundle_that_is_no_document() -> None:
    # 'false implies x' is true whatever x is; fhirpathpy cannot evaluate hasValue() at all, so
    # without the screen bdl-10 was skipped (never an issue) on every bundle.
    from allfhir.validation.prescreen import SCREENS

    assert SCREENS[BDL_10]({"type": "collection"}, {}) is True
    assert SCREENS[BDL_10]({"type": "document"}, {}) is None
    assert SCREENS[BDL_10]({}, {}) is None
    with pytest.raises(Exception, match="hasValue"):
        _compiled(BDL_10)({"resourceType": "Bundle", "type": "collection"}, {})
