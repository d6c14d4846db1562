"""Population operations (numerator, denominator, subjects only with the right scope), the
scopes of the subject operations, every error an OperationOutcome, and the definitions table
against the IG's own OperationDefinitions."""

from __future__ import annotations

import json

import pytest

from allfhir.genomics.definitions import OPERATIONS
from allfhir.validation.issues import errors
from allfhir.validation.packages import missing_reason, packages_dir
from allfhir.validation.validator import Validator
from tests.genomics.conftest import REGISTRY, Stored, _convert
from tests.genomics.test_subject_operations import BCR_RANGE, NCIT, RXNORM, SUBTYPE, ok


def counts(n: int, d: int, *subjects: str) -> list[dict]:
    return [{"name": "numerator", "valueQuantity": {"value": n}},
            {"name": "denominator", "valueQuantity": {"value": d}},
            *({"name": "subject", "valueString": s} for s in subjects)]


def issue(r) -> tuple[int, str, str]:
    body = r.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    return r.status_code, body["issue"][0]["code"], body["issue"][0]["diagnostics"]


def test_population_specific_variants_counts_subjects(stored: Stored) -> None:
    got = ok(stored.get("/fhir/$find-population-specific-variants", key=REGISTRY,
                        variants="NP_057953.1:p.Pro80Arg,NM_000038.6:c.55G>T"))
    assert got == {"resourceType": "Parameters", "parameter": [
        {"name": "variants", "part": [{"name": "variantItem", "valueString": "NP_057953.1:p.Pro80Arg"},
                                      *counts(1, 4)]},
        {"name": "variants", "part": [{"name": "variantItem", "valueString": "NM_000038.6:c.55G>T"},
                                      *counts(0, 4)]}]}
    listed = ok(stored.get("/fhir/$find-population-specific-variants", key="reader",
                           variants="NP_057953.1:p.Pro80Arg", includePatientList="true",
                           genomicSourceClass="somatic"))
    assert listed["parameter"][0]["part"][1:] == counts(1, 4, "Patient/B")
    germline = ok(stored.get("/fhir/$find-population-specific-variants", key=REGISTRY,
                             variants="NP_057953.1:p.Pro80Arg", genomicSourceClass="germline"))
    assert germline["parameter"][0]["part"][1:] == counts(0, 4)


@pytest.mark.parametrize("condition", [f"{SUBTYPE}|ph", f"{NCIT}|C80331"])
def test_population_dx_implications_by_subtype(stored: Stored, condition: str) -> None:
    got = ok(stored.get("/fhir/$find-population-dx-implications", key="reader",
                        conditions=condition, includePatientList="true"))
    # Patient/A (VCF breakends) and Patient/C (ALLSorts example, SJBALL043684)
    assert got == {"resourceType": "Parameters", "parameter": [
        {"name": "implications", "part": counts(2, 4, "Patient/A", "Patient/C")}]}
    iamp21 = ok(stored.get("/fhir/$find-population-dx-implications", key=REGISTRY,
                           conditions=f"{SUBTYPE}|iamp21"))
    assert iamp21["parameter"][0]["part"] == counts(1, 4)


def test_population_tx_implications_by_treatment_and_variant(stored: Stored) -> None:
    imatinib = ok(stored.get("/fhir/$find-population-tx-implications", key=REGISTRY,
                             treatments=f"{RXNORM}|282388"))
    assert imatinib["parameter"][0]["part"] == counts(2, 4)
    # imatinib AND the PAX5 variant: nobody has both
    both = ok(stored.get("/fhir/$find-population-tx-implications", key=REGISTRY,
                         treatments="282388", variants="NP_057953.1:p.Pro80Arg"))
    assert both["parameter"][0]["part"] == counts(0, 4)
    posted = ok(stored.post("/population-operations/phenotype-operations/$find-population-tx-implications",
                            {"resourceType": "Parameters", "parameter": [
                                {"name": "treatments", "valueString": f"{RXNORM}|282388"}]},
                            key=REGISTRY))
    assert posted == imatinib


def test_population_implication_and_variant_of_one_subject(stored: Stored) -> None:
    # the PAX5 P80R subtype call and, in another Observation, the variant: Patient/B only
    got = ok(stored.get("/fhir/$find-population-dx-implications", key="reader",
                        variants="NP_057953.1:p.Pro80Arg", includePatientList="true"))
    assert got["parameter"][0]["part"] == counts(1, 4, "Patient/B")
    counted = ok(stored.get("/fhir/$find-population-dx-implications", key=REGISTRY,
                            variants="NP_057953.1:p.Pro80Arg", genomicSourceClass="somatic"))
    assert counted["parameter"][0]["part"] == counts(1, 4)


def test_population_counts_a_subject_known_only_by_identifier(stored: Stored) -> None:
    _convert(stored.api, "urn:oid:2.16.840.1.113883.19.5|MRN-9",
             [("calls.csv", b",Prediction\nPT99_X,Ph\n")])
    got = ok(stored.get("/fhir/$find-population-dx-implications", key="reader",
                        conditions=f"{SUBTYPE}|ph", includePatientList="true"))
    assert got["parameter"][0]["part"] == counts(3, 5, "Patient/A", "Patient/C",
                                                 "urn:oid:2.16.840.1.113883.19.5|MRN-9")
    counted = ok(stored.get("/fhir/$find-population-dx-implications", key=REGISTRY,
                            conditions=f"{SUBTYPE}|ph"))
    assert counted["parameter"][0]["part"] == counts(3, 5)


def test_population_scopes(stored: Stored) -> None:
    # counts: the aggregate scope suffices; subjects: need Observation read and search
    r = stored.get("/fhir/$find-population-dx-implications", key=REGISTRY,
                   conditions=f"{SUBTYPE}|ph", includePatientList="true")
    assert issue(r)[:2] == (403, "forbidden") and "system/Observation.r" in issue(r)[2]
    r = stored.get("/fhir/$find-population-dx-implications", key="report-reader",
                   conditions=f"{SUBTYPE}|ph")
    assert issue(r)[:2] == (403, "forbidden") and "allfhir/population.aggregate" in issue(r)[2]
    assert stored.api.client.get("/fhir/$find-population-dx-implications").status_code == 401


def test_subject_operations_need_read_scope(stored: Stored) -> None:
    for key, status in ((REGISTRY, 403), ("report-reader", 403), ("revoked", 401)):
        r = stored.get("/fhir/$find-subject-dx-implications", key=key, subject="Patient/A")
        assert issue(r)[0] == status
    meta = stored.get("/fhir/$find-study-metadata", key="report-reader", subject="Patient/A")
    assert meta.status_code == 200


@pytest.mark.parametrize(("path", "args", "expected"), [
    ("/fhir/$find-subject-specific-variants", {"subject": "Patient/B", "variants": "NM_016734.3:c.239C>>G"},
     (400, "value", "variant 'NM_016734.3:c.239C>>G' is not valid HGVS or SPDI")),
    ("/fhir/$find-subject-specific-variants", {"variants": "NP_057953.1:p.Pro80Arg"},
     (400, "required", "parameter 'subject' is required by $find-subject-specific-variants")),
    ("/fhir/$find-subject-specific-variants", {"subject": "Patient/B", "variant": "x"},
     (400, "not-supported", "'variant' is not a parameter of $find-subject-specific-variants")),
    ("/fhir/$find-subject-structural-intersecting-variants", {"subject": "A", "ranges": "chr7:1-2"},
     (400, "value", "range 'chr7:1-2' is not a zero-based RefSeq range")),
    ("/fhir/$find-subject-structural-intersecting-variants", {"subject": "A", "ranges": "NC_000007.99:1-2"},
     (400, "value", "range 'NC_000007.99:1-2': NC_000007.99 is not a GRCh37 or GRCh38")),
    ("/fhir/$find-subject-structural-intersecting-variants",
     {"subject": "A", "ranges": BCR_RANGE, "includeVariants": "yes"},
     (400, "value", "parameter 'includeVariants': 'yes' is not true or false")),
    ("/fhir/$find-study-metadata", {"subject": "A", "testDateRange": "2026-01-01"},
     (400, "value", "parameter 'testDateRange': '2026-01-01' is not a date with a prefix")),
    ("/fhir/$find-subject-dx-implications", {"subject": ["A", "B"]},
     (400, "value", "parameter 'subject' of $find-subject-dx-implications takes one value, not 2")),
])
def test_errors_are_operation_outcomes_naming_the_parameter(stored: Stored, path: str, args: dict,
                                                             expected: tuple) -> None:
    r = stored.get(path, **args)
    status, code, text = issue(r)
    assert (status, code) == expected[:2] and text.startswith(expected[2]), text


def test_post_errors(stored: Stored) -> None:
    r = stored.post("/fhir/$find-subject-variants", {"resourceType": "Parameters", "parameter": [
        {"name": "subject", "valueString": "Patient/A"}, {"name": "ranges", "valueInteger": 3}]})
    assert issue(r)[:3] == (400, "value", "parameter 'ranges' takes valueString")
    r = stored.api.client.post("/fhir/$find-subject-variants", data=b"x", content_type="text/plain",
                               headers=stored.api.auth("reader"))
    assert issue(r)[0] == 415


def test_outputs_validate_against_the_ig_profiles(stored: Stored, profile_validator: Validator) -> None:
    answers = [
        stored.get("/fhir/$find-subject-structural-intersecting-variants", subject="Patient/A",
                   ranges=BCR_RANGE, includeVariants="true"),
        stored.get("/fhir/$find-subject-dx-implications", subject="Patient/A"),
        stored.get("/fhir/$find-subject-tx-implications", subject="Patient/A"),
        stored.get("/fhir/$find-subject-specific-variants", subject="Patient/B",
                   variants="NP_057953.1:p.Pro80Arg"),
        stored.get("/fhir/$find-study-metadata", subject="Patient/C"),
        stored.get("/fhir/$find-population-dx-implications", conditions=f"{SUBTYPE}|ph"),
    ]
    seen = 0
    for answer in map(ok, answers):
        assert [i.text() for i in errors(profile_validator.validate(answer))] == []
        for p in answer.get("parameter", []):
            for part in [p, *p.get("part", [])]:
                if "resource" in part:  # each Observation against its own profiles
                    seen += 1
                    assert [i.text() for i in errors(profile_validator.validate(part["resource"]))] == []
    assert seen == 2 + 2 + 4 + 1


def test_definitions_are_the_igs() -> None:
    if missing_reason():
        pytest.skip(str(missing_reason()))
    for op in OPERATIONS.values():
        path = packages_dir() / "ig" / "package" / f"OperationDefinition-{op.name}.json"
        ig = json.loads(path.read_text())
        assert ig["url"] == op.url
        assert [(p["name"], p["min"], p["max"], p["type"]) for p in ig["parameter"]
                if p["use"] == "in"] == [(p.name, p.min, p.max, p.type) for p in op.inputs]


def test_capability_statement_lists_each_operation_with_its_canonical(stored: Stored) -> None:
    rest = stored.api.client.get("/fhir/metadata").get_json()["rest"][0]
    listed = {o["name"]: o for o in rest["operation"]}
    for op in OPERATIONS.values():
        assert listed[op.name]["definition"] == op.url
        assert op.path in listed[op.name]["documentation"]
