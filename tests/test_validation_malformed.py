"""Malformed input gets issues, never an exception: for each place the validator once raised on a
mutation of the IG examples (found by tests/data/validation/find_crashes.py) or an odd resourceType,
an input that reached it and the exact issues it gives now; a sample of the systematic mutations
validated without raising; JSON nested deeper than the checks follow; the snapshot cache bounded
whatever URLs the input names."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from allfhir.validation.issues import STATS_KEPT
from allfhir.validation.nesting import MAX_DEPTH, nesting_issue
from allfhir.validation.packages import missing_reason, packages_dir
from allfhir.validation.validator import Validator
from tests.conftest import DATA

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))

UUID = "urn:uuid:0d8e1c1e-5f3b-4b8a-9d2e-1a2b3c4d5e6f"
DIV = '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'
OBSERVATION = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
               "text": {"status": "generated", "div": DIV}}
VARIANT = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"
ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
CONFIDENCE = "Variant: Observation.component:variant-confidence-status.value[x]: " \
    "http://terminology.hl7.org/CodeSystem/variant-confidence-status-cs#{} is not in the required " \
    "ValueSet http://hl7.org/fhir/uv/genomics-reporting/ValueSet/variant-confidence-status-vs"
WRONG_LIST = "Input should be a valid list"
WRONG_STRING = "Input should be a valid string"
NOT_AN_OBJECT = "Invalid JSON: expected value at line 1 column 1"  # fhir_core's words for a string
ELE_1 = "constraint ele-1 failed: All FHIR elements must have a @value or children (hasValue() or " \
    "(children().count() > id.count()))"

Issues = list[tuple[str, str, str, str, str]]


def _structure(where: str, message: str) -> tuple[str, str, str, str, str]:
    return ("error", "structure", "structure", where, message)


def _found(validator: Validator, doc: Any) -> Issues:
    return [(i.severity, i.code, i.check, i.expression, i.message) for i in validator.validate(doc)]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _confidence_variant(code: Any = "high", coding: Any = ...) -> dict[str, Any]:
    """The IG's Pgx-var-1015 (valid as it is) with the variant-confidence-status coding's code, or
    the whole coding array, replaced."""
    path = packages_dir() / "ig" / "package" / "example" / "Observation-Pgx-var-1015.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    concept = doc["component"][6]["valueCodeableConcept"]
    concept["coding"][0]["code"] = code
    if coding is not ...:
        concept["coding"] = coding
    return doc


# Where it raised (the mutation that found it) -> an input reaching that place, its exact issues.
CRASH_SITES: dict[str, tuple[Any, Issues]] = {
    # Validator.validate iterated Bundle.entry (.entry replace:1)
    "entry-not-a-list": ({"resourceType": "Bundle", "type": "collection", "entry": 1},
                         [_structure("Bundle.entry", WRONG_LIST)]),
    # check_bundle called .get on each entry (.entry replace:["x"])
    "entry-not-an-object": ({"resourceType": "Bundle", "type": "collection", "entry": ["x"]},
                            [_structure("Bundle.entry[0]", NOT_AN_OBJECT)]),
    # check_bundle called .get on each entry's resource (.entry[0].resource replace:["x"])
    "resource-not-an-object": (
        {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": UUID, "resource": ["x"]}]},
        [_structure("Bundle.entry[0].resource.root",
                    "Value is expected from the instance of Resource, but got type <class 'list'>")]),
    # Validator._resource read meta.profile (.meta replace:"x")
    "meta-not-an-object": ({**OBSERVATION, "meta": "x"}, [_structure("Observation.meta", NOT_AN_OBJECT)]),
    # ... and iterated it (.meta.profile replace:1)
    "profile-not-a-list": ({**OBSERVATION, "meta": {"profile": 1}},
                           [_structure("Observation.meta.profile", WRONG_LIST)]),
    # Validator._resource iterated contained (.contained replace:1)
    "contained-not-a-list": ({**OBSERVATION, "contained": 1},
                             [_structure("Observation.contained", WRONG_LIST)]),
    # resource_model took the module's own '__init__' for a model (a resourceType of that name)
    "resourceType-a-module-attribute": ({"resourceType": "__init__"}, [
        _structure("__init__", "unknown resourceType '__init__'"),
        ("warning", "not-supported", "profile", "__init__", "profile http://hl7.org/fhir/StructureDefinition/"
         "__init__ is not known (not in the FHIR packages or profiles/)")]),
    # obs-7's screen made a set of (system, code) (.code.coding[0].system replace:{})
    "system-an-object": (
        {**OBSERVATION, "code": {"coding": [{"system": {}, "code": "x"}]},
         "component": [{"code": {"text": "y"}}]},
        [_structure("Observation.code.coding[0].system", WRONG_STRING),
         ("error", "invariant", "constraint", "Observation.code.coding[0].system", f"Coding: {ELE_1}")]),
}


@pytest.mark.parametrize("name", sorted(CRASH_SITES))
def test_malformed_input_gets_the_structural_issue(validator: Validator, name: str) -> None:
    doc, expected = CRASH_SITES[name]
    assert _found(validator, doc) == expected


def test_required_binding_with_an_object_code(validator: Validator) -> None:
    # _binding looked (system, code) up in the ValueSet's set: the checks go on, the code is in no
    # ValueSet (...valueCodeableConcept.coding[0].code replace:{"x": 1}).
    assert _found(validator, _confidence_variant({"x": 1})) == [
        _structure("Observation.component[6].valueCodeableConcept.coding[0].code", WRONG_STRING),
        ("error", "code-invalid", "binding", "Observation.component[6].value", CONFIDENCE.format('{"x":1}'))]
    assert _found(validator, _confidence_variant()) == []  # the example as the IG has it


def test_required_binding_with_a_coding_that_is_no_list(validator: Validator) -> None:
    # _binding iterated the coding (...valueCodeableConcept.coding replace:1, replace:null): no
    # Coding to check; a null is no content (ele-1), as the model allows it.
    assert _found(validator, _confidence_variant(coding=1)) == [
        _structure("Observation.component[6].valueCodeableConcept.coding", WRONG_LIST)]
    assert _found(validator, _confidence_variant(coding=None)) == [
        ("error", "invariant", "constraint", "Observation.component[6].value", f"Observation: {ELE_1}")]


def _finder() -> Any:  # a script, not a package module: loaded by path
    spec = importlib.util.spec_from_file_location("find_crashes", DATA / "validation" / "find_crashes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLE_STRIDE = 60  # every 60th of the ~30,000 systematic mutations (the script runs them all)


def test_systematic_mutations_do_not_raise(validator: Validator) -> None:
    sample = [(label, doc) for n, (label, doc) in enumerate(_finder().mutations()) if n % SAMPLE_STRIDE == 0]
    assert len(sample) > 400
    raised = {}
    for label, doc in sample:
        try:
            validator.validate(doc)
        except Exception as exc:  # what the test looks for
            raised[label] = repr(exc)
    assert raised == {}


def _nested(levels: int) -> dict[str, Any]:
    """An Observation whose extension nests `levels` extensions deep (two JSON levels each)."""
    ext: dict[str, Any] = {"url": "http://example.org/x", "valueString": "a"}
    for _ in range(levels - 1):
        ext = {"url": "http://example.org/x", "extension": [ext]}
    return {**OBSERVATION, "extension": [ext]}


def test_nesting_beyond_the_limit_is_one_issue() -> None:
    # Observation (level 0) > extension (1) > [0] (2) ...: the 50th extension object is at level 100.
    assert nesting_issue(_nested(49), "Observation") is None
    issue = nesting_issue(_nested(50), "Observation")
    assert issue is not None
    assert (issue.severity, issue.code, issue.expression, issue.message) == (
        "error", "structure", "Observation" + ".extension[0]" * 50,
        f"objects and arrays nested more than {MAX_DEPTH} levels deep: not validated")


def test_validator_reports_nesting_its_recursion_cannot_follow(validator: Validator) -> None:
    deep = _nested(2000)
    assert _found(validator, deep) == [_structure(
        "Observation" + ".extension[0]" * 50,
        "objects and arrays nested more than 100 levels deep: not validated")]
    # and the caches it left are sound: a plain resource validates as before
    assert _found(validator, OBSERVATION) == []


def test_snapshot_cache_holds_only_known_definitions() -> None:
    validator = Validator()
    doc = copy.deepcopy(OBSERVATION)
    doc["extension"] = [*({"url": f"http://example.org/ext/{n}", "valueString": "a"} for n in range(1500)),
                        *({"url": f"{ABSENT}|4.0.{n}", "valueCode": "unknown"} for n in range(300))]
    doc["meta"] = {"profile": [*(f"http://example.org/profile/{n}" for n in range(1200)),
                               *(f"{VARIANT}|3.0.{n}" for n in range(300))]}
    first = _found(validator, doc)
    profiles = validator.profiles
    known = set(validator.packages.sds)
    assert set(profiles._snapshots) <= known and VARIANT in profiles._snapshots
    assert len(profiles._snapshots) < 40  # Observation, the variant profile, the types they use
    assert profiles.snapshot(f"{VARIANT}|3.0.7") is profiles.snapshot(VARIANT)
    assert profiles.snapshot(f"{ABSENT}|4.0.7") is profiles._snapshots[ABSENT]  # one, for 300 versions
    assert len(validator.stats.profiles_missing) == STATS_KEPT  # of the 1,200 unknown ones
    unknown = [i for i in first if i[3] == "Observation" and "is not known" in i[4]]
    assert len(unknown) == 1200  # each unknown profile is still reported
    assert _found(validator, doc) == first  # nothing remembered changes what is found


def test_cli_reports_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from allfhir.cli import main

    # 400 extensions (800 levels): what the JSON parser reads, beyond what the checks' recursion follows
    inner = '{"url": "http://example.org/x", "valueString": "a"}'
    for _ in range(399):
        inner = f'{{"url": "http://example.org/x", "extension": [{inner}]}}'
    deep = tmp_path / "deep.json"
    deep.write_text(f'{{"resourceType": "Observation", "extension": [{inner}]}}', encoding="utf-8")
    assert main(["validate", str(deep)]) == 2
    [issue] = json.loads(capsys.readouterr().out)["issue"]
    assert issue == {
        "severity": "error", "code": "structure", "expression": ["Observation" + ".extension[0]" * 50],
        "diagnostics": f"{deep}: objects and arrays nested more than 100 levels deep: not validated"}
    unreadable = tmp_path / "unreadable.json"
    unreadable.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    assert main(["validate", str(unreadable)]) == 2
    captured = capsys.readouterr()
    assert "JSON arrays and objects nested too deeply to be read" in captured.err + captured.out
