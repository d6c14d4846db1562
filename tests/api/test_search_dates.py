"""Search by `date` and `_lastUpdated` with FHIR prefixes and precision, and `_elements`, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api
from tests.api.test_fhir_rest import EXAMPLE, GENERIC, issue, post, reports

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "subsetted"}


def sample(sample_id: str) -> bytes:
    doc = json.loads(GENERIC.read_bytes())
    doc["sample_id"] = sample_id
    return json.dumps(doc).encode()


@dataclass
class Stored:
    october: dict  # a report dated to the month only: 2026-10
    day: dict  # dated 2026-11-25
    seconds: list[dict]  # three reports dated 2026-11-03T10:15:00Z, stored last


@pytest.fixture
def stored(api: Api) -> Stored:
    def convert(body: bytes, ctype: str, query: str) -> list[dict]:
        r = post(api, body, ctype, query=query)
        assert r.status_code == 200
        return [b["entry"][0]["resource"] for b in reports(r.get_json())]

    (october,) = convert(sample("LAB-A"), "application/json", "?effective=2026-10")
    (day,) = convert(sample("LAB-G"), "application/json", "?effective=2026-11-25&patient=Patient/p42")
    seconds = convert(EXAMPLE.read_bytes(), "text/csv", "?effective=2026-11-03T10:15:00Z")
    return Stored(october, day, seconds)


def found(api: Api, rtype: str = "DiagnosticReport", **query: str | list[str]) -> list[str]:
    r = api.client.get(f"/fhir/{rtype}", query_string=query, headers=api.auth("reader"))
    assert r.status_code == 200, r.get_json()
    return sorted(e["resource"]["id"] for e in r.get_json().get("entry", []))


def ids(*resources: dict) -> list[str]:
    return sorted(r["id"] for r in resources)


def test_date_prefixes_compare_ranges_at_their_precision(api: Api, stored: Stored) -> None:
    octo, day, secs = stored.october, stored.day, stored.seconds
    cases = {
        "2026": ids(octo, day, *secs),
        "2026-11": ids(day, *secs),  # November contains the day and the instant
        "2026-11-25": ids(day),
        "2026-10-15": [],  # a report known only to the month is not known to be of that day
        "ne2026-11": ids(octo),
        "lt2026-11-03": ids(octo),
        "le2026-11-03": ids(octo, *secs),
        "gt2026-11-03": ids(day),
        "ge2026-11-03": ids(day, *secs),
        "ge2026-10-15": ids(octo, day, *secs),  # October reaches beyond the 15th
        "sa2026-10": ids(day, *secs),
        "eb2026-11-25": ids(octo, *secs),
        "2026-11-03T10:15:00Z": ids(*secs),
        "2026-11-03T10:15": ids(*secs),  # to the minute
        "2026-11-03T11:15:00+01:00": ids(*secs),  # the same instant in another zone
        "2026-11-03T10:15:01Z": [],
        "2026-10,2026-11-25": ids(octo, day),  # a comma is OR
    }
    assert {value: found(api, date=value) for value in cases} == cases
    assert found(api, date=["ge2026-11", "lt2026-11-25"]) == ids(*secs)  # repeated is AND
    # every finding carries the report's date
    observations = sorted(r["reference"].removeprefix("urn:uuid:") for r in day["result"])
    assert found(api, "Observation", date="2026-11-25") == observations


def test_last_updated_is_the_instant_a_version_was_stored(api: Api, stored: Stored) -> None:
    t_day = stored.day["meta"]["lastUpdated"]
    t_secs = stored.seconds[0]["meta"]["lastUpdated"]
    assert t_day < t_secs and len(t_day) == len("2026-12-01T21:40:12.345Z")
    assert found(api, _lastUpdated=t_day) == ids(stored.day)
    assert found(api, _lastUpdated=f"gt{t_day}") == ids(*stored.seconds)
    assert found(api, _lastUpdated=f"lt{t_secs}") == ids(stored.october, stored.day)
    assert found(api, _lastUpdated=f"ge{t_day[:10]}") == ids(stored.october, stored.day, *stored.seconds)
    # an amendment is a new version, stored now
    changed = json.loads(sample("LAB-G"))
    changed["calls"][0]["probability"] = 0.5
    post(api, json.dumps(changed).encode(), "application/json",
         query="?effective=2026-11-25&patient=Patient/p42")
    assert found(api, _lastUpdated=f"gt{t_secs}") == ids(stored.day)
    assert found(api, _lastUpdated=f"gt{t_secs}", date="2026-11-25") == ids(stored.day)


def test_elements_keep_the_named_and_mandatory_elements_on_every_page(api: Api, stored: Stored) -> None:
    url = "/fhir/DiagnosticReport?_elements=subject,effective&_count=2&_include=DiagnosticReport:result"
    pages, seen = 0, []
    while url:
        page = api.client.get(url, headers=api.auth("reader")).get_json()
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert urlsplit(links["self"]).query.startswith(
            "_elements=subject%2Ceffective&_include=DiagnosticReport%3Aresult&_count=2&_offset=")
        for e in page["entry"]:
            res = e["resource"]
            if e["search"]["mode"] == "include":  # included resources are whole
                assert "valueCodeableConcept" in res or "component" in res or "valueString" in res
                assert "tag" not in res["meta"]
                continue
            seen.append(res["id"])
            want = {"status", "code", "effectiveDateTime"} | (
                {"subject"} if res["id"] == stored.day["id"] else set())
            # PostgreSQL's JSONB keeps no key order: the set, and resourceType, id, meta first
            assert (list(res)[:3], set(list(res)[3:])) == (["resourceType", "id", "meta"], want)
            assert res["meta"]["tag"] == [SUBSETTED] and res["meta"]["versionId"] == "1"
        nxt = links.get("next")
        url = urlsplit(nxt).path + "?" + urlsplit(nxt).query if nxt else ""
        pages += 1
    assert (sorted(seen), pages) == (ids(stored.october, stored.day, *stored.seconds), 3)


def test_refused_date_and_elements_values(api: Api) -> None:
    def refused(**query: str) -> tuple[int, str, str]:
        return issue(api.client.get("/fhir/DiagnosticReport", query_string=query,
                                    headers=api.auth("reader")))

    hint = "is not a date with an optional prefix (eq, ne, gt, lt, ge, le, sa, eb), e.g. " \
           "ge2026-11-25 or lt2026-11-25T10:00:00Z"
    assert refused(date="2026-13") == (400, "value", f"date '2026-13' {hint}")
    assert refused(date="ap2026") == (400, "value", f"date 'ap2026' {hint}")
    assert refused(_lastUpdated="yesterday") == (400, "value", f"_lastUpdated 'yesterday' {hint}")
    assert refused(_elements="DiagnosticReport.code") == (
        400, "value", "_elements 'DiagnosticReport.code' is not a list of element names (e.g. "
        "_elements=status,code,subject)")
    minutes = post(api, GENERIC.read_bytes(), "application/json", query="?effective=2026-11-25T10:00")
    assert issue(minutes) == (
        400, "value", "effective '2026-11-25T10:00' is not a FHIR dateTime (e.g. 2026-11-25 or "
        "2026-11-25T10:00:00Z)")


def test_read_and_vread_take_elements_too(api: Api, stored: Stored) -> None:
    rid = stored.day["id"]
    for path in (f"/fhir/DiagnosticReport/{rid}", f"/fhir/DiagnosticReport/{rid}/_history/1"):
        r = api.client.get(f"{path}?_elements=subject", headers=api.auth("reader"))
        assert (r.status_code, r.headers["ETag"]) == (200, 'W/"1"')
        res = r.get_json()
        assert set(res) == {"resourceType", "id", "meta", "status", "code", "subject"}
        assert (res["subject"], res["meta"]["tag"]) == ({"reference": "Patient/p42"}, [SUBSETTED])
    whole = api.client.get(f"/fhir/DiagnosticReport/{rid}", headers=api.auth("reader")).get_json()
    assert "tag" not in whole["meta"] and "presentedForm" in whole


def test_the_mandatory_elements_are_r4s(profile_validator: object) -> None:
    from allfhir.api.search import MANDATORY

    packages = profile_validator.packages  # type: ignore[attr-defined]
    for rtype, kept in MANDATORY.items():
        sd = packages.structure_definition(f"http://hl7.org/fhir/StructureDefinition/{rtype}")
        required = tuple(e["path"].split(".", 1)[1] for e in sd["snapshot"]["element"]
                         if e["path"].count(".") == 1 and e.get("min", 0) >= 1)
        assert (rtype, kept) == (rtype, required)


def test_subset_keeps_choices_of_a_name_not_longer_names() -> None:
    from allfhir.api.search import subset

    statement = {"resourceType": "MedicationStatement", "id": "m", "meta": {}, "status": "active",
                 "statusReason": [{"text": "x"}], "medicationCodeableConcept": {"text": "imatinib"},
                 "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-11-25",
                 "dateAsserted": "2026-11-26"}
    assert subset(statement, ("effective",)) == {
        "resourceType": "MedicationStatement", "id": "m", "meta": {"tag": [SUBSETTED]},
        "status": "active", "medicationCodeableConcept": {"text": "imatinib"},
        "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-11-25"}
