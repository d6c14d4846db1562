"""The prepared profile walk (allfhir.validation.profile) takes the shortcuts it does only where they
change nothing: a node's children are the ones its keys feed plus the required ones; a repetition is
tried against the slices its first discriminator allows, and gets the slice a scan of every slice
gives; an element a profile leaves as the base defines it is recognised as such, and one it changes
is not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from allfhir.validation.packages import missing_reason
from allfhir.validation.profile import ProfileValidator, Snapshot, _slice_index, index
from allfhir.validation.validator import Validator

needs_packages = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
GENOMIC_REPORT = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/genomic-report"
BASE = "http://hl7.org/fhir/StructureDefinition/"


@pytest.fixture(scope="module")
def profiles() -> ProfileValidator:
    if missing_reason():
        pytest.skip(str(missing_reason()))
    return Validator().profiles


@needs_packages
@pytest.mark.parametrize("node", [
    {},
    {"status": "final"},
    {"status": "final", "_status": {"id": "s"}, "code": {"text": "x"}},
    {"_status": {"extension": []}, "valueString": "v", "valueQuantity": {}, "value": 1, "unknown": 2},
    {"effectiveDateTime": "2020", "effectivePeriod": {}, "effective": "x", "effectivex": "y"},
])
def test_children_of_a_node_are_those_its_keys_feed_and_the_required_ones(
        profiles: ProfileValidator, node: dict[str, Any]) -> None:
    snap = profiles.base_snapshot("Observation")
    assert snap is not None
    walk = snap.walk_of(snap.root_id)
    expected = [c for c in walk.children
                if c.minimum > 0 or any(c.fed_by(key) for key in node)]
    assert [c.el["id"] for c in walk.present(node)] == [c.el["id"] for c in expected]
    fed = {c.el["id"] for c in walk.present({"effectiveDateTime": "2020", "_status": {}})}
    assert {"Observation.effective[x]", "Observation.status", "Observation.code"} <= fed
    assert "Observation.effective[x]" not in {c.el["id"] for c in walk.present({"effective": "x"})}


def _sliced_sd() -> dict[str, Any]:
    """Observation.component sliced by the pattern of its code, plus a fixed-url extension slicing."""
    def coding(system: str, code: str) -> dict[str, Any]:
        return {"coding": [{"system": system, "code": code}]}
    elements: list[dict[str, Any]] = [
        {"id": "Observation", "path": "Observation"},
        {"id": "Observation.component", "path": "Observation.component",
         "slicing": {"discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}},
    ]
    for name, pattern in [("a", coding("s", "1")), ("b", coding("s", "2")), ("a2", coding("s", "1")),
                          ("text", {"text": "t"}), ("two", {"coding": [{"system": "s", "code": "1"},
                                                                        {"system": "s", "code": "2"}]}),
                          ("sysonly", {"coding": [{"system": "s"}]})]:
        elements += [{"id": f"Observation.component:{name}", "path": "Observation.component",
                      "sliceName": name},
                     {"id": f"Observation.component:{name}.code", "path": "Observation.component.code",
                      "patternCodeableConcept": pattern}]
    elements += [
        {"id": "Observation.extension", "path": "Observation.extension",
         "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}},
        {"id": "Observation.extension:x", "path": "Observation.extension", "sliceName": "x",
         "type": [{"code": "Extension", "profile": ["http://e.org/x"]}]},
        {"id": "Observation.extension:y", "path": "Observation.extension", "sliceName": "y"},
        {"id": "Observation.extension:y.url", "path": "Observation.extension.url", "fixedUri": "http://e.org/y"},
    ]
    return {"resourceType": "StructureDefinition", "name": "Sliced", "url": "http://e.org/sliced",
            "snapshot": {"element": elements}}


COMPONENTS: list[Any] = [
    {"code": {"coding": [{"system": "s", "code": "1"}]}},
    {"code": {"coding": [{"system": "s", "code": "2", "display": "d"}, {"system": "s", "code": "1"}]}},
    {"code": {"coding": {"system": "s", "code": "2"}}},  # a coding object, not a list
    {"code": {"coding": [{"system": "s", "code": "3"}], "text": "t"}},
    {"code": {"coding": [{"system": "s"}]}},
    {"code": [{"coding": [{"system": "s", "code": "2"}]}]},
    {"code": {"coding": [{"system": ["s"], "code": "1"}]}},
    {"code": {}}, {}, "text", None, {"code": {"coding": [None, 1, {"code": "1"}]}},
]
EXTENSIONS: list[Any] = [{"url": "http://e.org/x"}, {"url": "http://e.org/y"}, {"url": "http://e.org/z"},
                         {"url": ["http://e.org/y"]}, {"url": 1}, {}, "x"]


@pytest.mark.parametrize(("element", "values"), [("Observation.component", COMPONENTS),
                                                 ("Observation.extension", EXTENSIONS)])
def test_slice_index_gives_the_slice_a_scan_of_every_slice_gives(element: str, values: list[Any]) -> None:
    snap: Snapshot = index(_sliced_sd())
    walker = ProfileValidator.__new__(ProfileValidator)  # _disc_match reads only the snapshot
    el, slices = snap.by_id[element], snap.slices[element]
    discs = el["slicing"]["discriminator"]
    idx = _slice_index(slices, discs[0], snap)
    assert idx is not None

    def first(candidates: list[dict[str, Any]], value: Any) -> str | None:
        return next((s["id"] for s in candidates
                     if all(walker._disc_match(value, None, s, d, snap) for d in discs)), None)

    got = [first(idx.candidates(v), v) for v in values]
    assert got == [first(slices, v) for v in values]
    assert len({g for g in got if g}) >= 2  # more than one slice is matched


@needs_packages
def test_elements_left_as_the_base_defines_them(profiles: ProfileValidator) -> None:
    snap, base = profiles.snapshot(GENOMIC_REPORT), profiles.snapshot(BASE + "DiagnosticReport")
    assert snap is not None and base is not None
    same = {c.el["id"]: profiles._same_as_base(snap, c.el, base, base.by_id[c.el["id"]])
            for c in snap.walk_of(snap.root_id).children if c.el["id"] in base.by_id}
    # The profile fixes the code, slices extension and result, narrows effective[x] and category.
    assert [k for k, v in same.items() if not v] == [
        "DiagnosticReport.extension", "DiagnosticReport.category", "DiagnosticReport.code",
        "DiagnosticReport.effective[x]", "DiagnosticReport.result"]
    assert same["DiagnosticReport.status"] and same["DiagnosticReport.subject"]


def test_an_element_that_differs_only_in_what_the_walk_reads_is_not_the_same() -> None:
    elements = [
        {"id": "X", "path": "X"},
        {"id": "X.a", "path": "X.a", "min": 0, "max": "1", "type": [{"code": "BackboneElement"}],
         "short": "a", "constraint": [{"key": "k", "expression": "b.exists()", "human": "h"}]},
        {"id": "X.a.b", "path": "X.a.b", "min": 0, "max": "1", "type": [{"code": "string"}]}]
    sd = {"resourceType": "StructureDefinition", "name": "B", "url": "http://e.org/b",
          "snapshot": {"element": elements}}
    walker = ProfileValidator.__new__(ProfileValidator)
    walker._same = {}
    base = index(sd)

    def same_after(edit: Any) -> bool:
        changed = copy.deepcopy(sd)
        edit(changed["snapshot"]["element"])
        snap = index(changed)
        return walker._same_as_base(snap, snap.by_id["X.a"], base, base.by_id["X.a"])

    assert same_after(lambda els: els[1].update(short="other", definition="d", mustSupport=True))
    assert not same_after(lambda els: els[1]["constraint"][0].update(human="other"))
    assert not same_after(lambda els: els[1].update(min=1))
    assert not same_after(lambda els: els[2].update(max="0"))  # a child differs
    assert not same_after(lambda els: els[2].update(patternString="p"))
    assert not same_after(lambda els: els.append({"id": "X.a.c", "path": "X.a.c"}))
    assert not same_after(lambda els: els.append({"id": "X.a.b:s", "path": "X.a.b", "sliceName": "s"}))


def test_frozen_content_tells_apart_what_the_walk_tells_apart() -> None:
    from allfhir.validation.profile import FROZEN_NODES, FROZEN_TEXT, _freeze

    values = [{"value": 1}, {"value": 1.0}, {"value": True}, {"value": "1"}, {"value": [1]},
              {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"value": None}, {}]
    assert len({_freeze(v) for v in values}) == len(values)
    assert _freeze({"a": [{"b": "c"}]}) == _freeze({"a": [{"b": "c"}]})
    assert _freeze({"value": float("nan")}) is None
    assert _freeze({"div": "x" * (FROZEN_TEXT + 1)}) is None
    assert _freeze({"a": list(range(FROZEN_NODES))}) is None
    assert _freeze({"a": list(range(FROZEN_NODES - 2))}) is not None


@needs_packages
def test_kept_sub_walk_issues_are_given_at_their_own_places() -> None:
    quantity = {"value": 1, "code": "mg"}  # qty-3: a code needs its system
    entries = [{"fullUrl": f"urn:uuid:0000000{n}-0000-4000-8000-000000000000", "resource": {
        "resourceType": "Observation", "status": "final", "code": {"text": "t"},
        "valueQuantity": dict(quantity),
        "component": [{"code": {"text": "c"}, "valueQuantity": dict(quantity)}]}} for n in range(2)]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    kept, fresh = Validator(), Validator()
    fresh.profiles.audit = []  # tests' audit mode walks every value afresh
    found = kept.validate(bundle)
    assert found == fresh.validate(bundle)
    assert [i.expression for i in found if "qty-3" in i.message] == [
        f"Bundle.entry[{n}].resource.{where}" for n in range(2)
        for where in ("value", "component[0].value")]
    assert kept.profiles._sub_issues and not fresh.profiles._sub_issues
