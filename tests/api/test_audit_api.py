"""The audit log over REST: `GET /fhir/AuditEvent?date=&agent=&entity=&action=` and the read,
for the admin scope only; on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit

from allfhir.store import apikeys, audit
from tests.api.conftest import Api
from tests.api.test_fhir_rest import GENERIC, issue, post, reports


def test_the_audit_log_is_searchable_with_the_admin_scope(api: Api) -> None:
    admin = {"Authorization": f"Bearer {apikeys.create(api.store, 'auditor', ['system/AuditEvent.rs'])}"}
    (bundle,) = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())
    rid = bundle["entry"][0]["resource"]["id"]
    api.client.get(f"/fhir/DiagnosticReport/{rid}", headers=api.auth("reader"))
    api.client.get(f"/fhir/DiagnosticReport/{rid}")  # refused, audited as anonymous
    api.client.get("/fhir/DiagnosticReport?status=final", headers=api.auth("reader"))

    def search(query: str) -> list[tuple[str, str, str, list[str]]]:
        r = api.client.get(f"/fhir/AuditEvent?{query}", headers=admin)
        assert r.status_code == 200, r.get_json()
        page = r.get_json()
        assert (page["type"], page["total"]) == ("searchset", len(page.get("entry", [])))
        return [(e["resource"]["subtype"][0]["code"], e["resource"]["agent"][0]["who"]["display"],
                 e["resource"]["outcome"],
                 [x["what"]["reference"] for x in e["resource"].get("entity", []) if "what" in x])
                for e in page.get("entry", [])]

    # newest first
    assert search("") == [("search-type", "reader", "0", []), ("read", "anonymous", "4", []),
                          ("read", "reader", "0", [f"DiagnosticReport/{rid}"]),
                          ("operation", "writer", "0", [f"DiagnosticReport/{rid}"])]
    assert search("agent=reader") == [("search-type", "reader", "0", []),
                                      ("read", "reader", "0", [f"DiagnosticReport/{rid}"])]
    assert search(f"entity=DiagnosticReport/{rid}") == [
        ("read", "reader", "0", [f"DiagnosticReport/{rid}"]),
        ("operation", "writer", "0", [f"DiagnosticReport/{rid}"])]
    assert search("action=R&agent=anonymous,writer") == [("read", "anonymous", "4", [])]
    assert search("action=C") == []
    # the searches so far are audited too (search-type by the auditor)
    assert [s[:2] for s in search("agent=auditor")] == [("search-type", "auditor")] * 5

    everything = api.client.get("/fhir/AuditEvent?agent=writer", headers=admin).get_json()
    first = everything["entry"][0]["resource"]
    assert search(f"date=lt{first['recorded']}") == []
    assert search(f"date={first['recorded']}&agent=writer") == [
        ("operation", "writer", "0", [f"DiagnosticReport/{rid}"])]
    assert len(search(f"date=ge{first['recorded'][:10]}&agent=reader")) == 2

    page = api.client.get("/fhir/AuditEvent?agent=reader&_count=1", headers=admin).get_json()
    nxt = next(link["url"] for link in page["link"] if link["relation"] == "next")
    assert urlsplit(nxt).query == "agent=reader&_count=1&_offset=1"
    second = api.client.get(f"/fhir/AuditEvent?{urlsplit(nxt).query}", headers=admin).get_json()
    assert second["entry"][0]["resource"]["subtype"][0]["code"] == "read"
    assert [link["relation"] for link in second["link"]] == ["self", "previous"]

    read = api.client.get(f"/fhir/AuditEvent/{first['id']}", headers=admin)
    assert (read.status_code, read.get_json()) == (200, first)
    assert issue(api.client.get("/fhir/AuditEvent/no-such-event", headers=admin)) == (
        404, "not-found", "AuditEvent/no-such-event is not known")


def test_wildcards_do_not_open_the_audit_log(api: Api) -> None:
    need = "needs system/AuditEvent.rs (a wildcard such as system/*.read does not grant it)"
    for key in ("reader", "writer"):
        assert issue(api.client.get("/fhir/AuditEvent", headers=api.auth(key))) == (
            403, "forbidden", f"the API key '{key}' lacks the admin scope of the audit log: {need}")
        assert issue(api.client.get("/fhir/AuditEvent/x", headers=api.auth(key)))[0] == 403
    assert issue(api.client.get("/fhir/AuditEvent"))[0] == 401
    v1 = {"Authorization": f"Bearer {apikeys.create(api.store, 'auditor-v1', ['system/AuditEvent.read'])}"}
    assert api.client.get("/fhir/AuditEvent", headers=v1).status_code == 200
    assert issue(api.client.get("/fhir/AuditEvent?outcome=4", headers=v1)) == (
        400, "not-supported", "unknown search parameter 'outcome' for AuditEvent; known: action, agent, "
        "date, entity (references also with :identifier)")
    assert issue(api.client.get("/fhir/AuditEvent?entity:identifier=x", headers=v1))[:2] == (
        400, "not-supported")


def test_the_capability_statement_names_the_audit_log_and_its_scope(api: Api) -> None:
    cs = api.client.get("/fhir/metadata").get_json()
    (entry,) = [r for r in cs["rest"][0]["resource"] if r["type"] == "AuditEvent"]
    assert entry == {
        "type": "AuditEvent",
        "documentation": "The audit log: one event per access. Needs the admin scope "
                         "system/AuditEvent.rs (v1 system/AuditEvent.read); wildcards do not grant it.",
        "interaction": [{"code": "read"}, {"code": "search-type"}], "versioning": "no-version",
        "readHistory": False, "updateCreate": False,
        "searchParam": [
            {"name": "date", "type": "date", "definition": "http://hl7.org/fhir/SearchParameter/AuditEvent-date"},
            {"name": "agent", "type": "token",
             "documentation": "the client (API key name) of agent.who.display, exactly"},
            {"name": "entity", "type": "reference",
             "definition": "http://hl7.org/fhir/SearchParameter/AuditEvent-entity"},
            {"name": "action", "type": "token",
             "definition": "http://hl7.org/fhir/SearchParameter/AuditEvent-action"}]}


def test_a_conversion_is_recorded_once_with_its_reports_also_when_resubmitted(api: Api) -> None:
    # A new conversion's AuditEvent is written in the transaction that stores its reports; a
    # resubmission (which writes nothing) is recorded after its response. Once each, either way.
    body = GENERIC.read_bytes()
    (first,) = reports(post(api, body, "application/json").get_json())
    (again,) = reports(post(api, body, "application/json").get_json())
    assert again == first
    ref = f"DiagnosticReport/{first['entry'][0]['resource']['id']}"
    events = [e for e in reversed(audit.recent(api.store)) if e["subtype"][0]["code"] == "operation"]
    assert [(e["outcome"], e["agent"][0]["who"]["display"],
             [x["what"]["reference"] for x in e["entity"]]) for e in events] == [
        ("0", "writer", [ref]), ("0", "writer", [ref])]
    assert len({e["id"] for e in events}) == 2
