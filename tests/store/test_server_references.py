"""Stored copies point at each other as `Type/id`: the fast path through the JSON text gives
exactly what walking the resource gives, on every resource of a cohort and on the cases it
leaves to the walk."""

from __future__ import annotations

from allfhir.convert import convert
from allfhir.store.submissions import _walked, _with_server_references
from tests.conftest import DATA


def locals_of(bundle: dict) -> dict[str, str]:
    return {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in bundle["entry"] if "fullUrl" in e}


def test_the_text_path_equals_the_walk_on_a_cohort() -> None:
    bundles = [b for b in convert([DATA / "classifiers" / "allsorts-comparisons.csv"])
               if isinstance(b, dict)]
    changed = 0
    for bundle in bundles[:40]:
        local = locals_of(bundle)
        for entry in bundle["entry"]:
            fast = _with_server_references(entry["resource"], local)
            assert fast == _walked(entry["resource"], local)
            changed += fast != entry["resource"]
    assert changed > 40  # the references were there to rewrite


def test_lookalikes_and_odd_values_are_left_as_the_walk_leaves_them() -> None:
    local = {"urn:uuid:1": "Observation/a", "urn:uuid:12": "Observation/b"}
    resource = {"resourceType": "DiagnosticReport", "id": "r",
                "result": [{"reference": "urn:uuid:1"}, {"reference": "urn:uuid:12"},
                           {"reference": "urn:uuid:123"}],
                "note": [{"text": '"reference":"urn:uuid:1"'}], "conclusion": "x\u2028y é",
                "extension": [{"url": "u", "valueDecimal": 1e16}, {"valueInteger": 2 ** 70}]}
    assert _with_server_references(resource, local) == _walked(resource, local)
    assert _with_server_references(resource, local)["result"] == [
        {"reference": "Observation/a"}, {"reference": "Observation/b"}, {"reference": "urn:uuid:123"}]
    del resource["extension"][1]  # without the big integer: the text path
    got = _with_server_references(resource, local)
    assert got == _walked(resource, local) and got["note"] == resource["note"]
    odd = {'urn:"x"': "Observation/c", "urn:é": "Observation/d"}
    quoted = {"a": [{"reference": 'urn:"x"'}, {"reference": "urn:é"}]}
    assert _with_server_references(quoted, odd) == {"a": [{"reference": "Observation/c"},
                                                          {"reference": "Observation/d"}]}
