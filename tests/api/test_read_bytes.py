"""A read by id serves the stored JSON text as it is (no decode and encode again on SQLite):
the same bytes as the resource written compact, and the same bytes from a row an earlier
release wrote spaced (json.dumps' default separators, \\u escapes)."""

from __future__ import annotations

import json

from allfhir.api.search import subset
from allfhir.jsonout import dumps_bytes
from allfhir.store import reads
from allfhir.store.schema import resources
from tests.api.conftest import Api
from tests.api.test_fhir_rest import post, reports
from tests.conftest import DATA


def test_read_serves_the_resource_compact_as_stored(api: Api) -> None:
    r = post(api, (DATA / "classifiers" / "generic-single.json").read_bytes(), "application/json")
    bundle = reports(r.get_json())[0]
    for entry in bundle["entry"]:
        res = entry["resource"]
        path = f"/fhir/{res['resourceType']}/{res['id']}"
        got = api.client.get(path, headers=api.auth("reader"))
        stored = reads.read(api.store, res["resourceType"], res["id"])
        assert got.status_code == 200 and got.data == dumps_bytes(stored.resource)
        assert got.headers["ETag"] == 'W/"1"'
        # _pretty and _elements still go through the decoded resource
        pretty = api.client.get(f"{path}?_pretty=true", headers=api.auth("reader"))
        assert pretty.data.decode() == json.dumps(stored.resource, ensure_ascii=False, indent=2)
        elements = api.client.get(f"{path}?_elements=id", headers=api.auth("reader")).get_json()
        assert elements == subset(stored.resource, ("id",)) != stored.resource


def test_a_row_written_spaced_is_served_compact(api: Api) -> None:
    r = post(api, (DATA / "classifiers" / "generic-single.json").read_bytes(), "application/json")
    report = reports(r.get_json())[0]["entry"][0]["resource"]
    stored = reads.read(api.store, "DiagnosticReport", report["id"]).resource
    changed = {**stored, "conclusion": "Hyperdiploïdie"}
    with api.store.transaction() as conn:  # as an earlier release's serialiser wrote it
        conn.execute(resources.update().where(resources.c.id == report["id"]).values(
            resource=json.loads(json.dumps(changed))))
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("UPDATE resources SET resource = ? WHERE id = ?",
                                 (json.dumps(changed), report["id"]))
    got = api.client.get(f"/fhir/DiagnosticReport/{report['id']}", headers=api.auth("reader"))
    assert got.data == dumps_bytes(changed)
