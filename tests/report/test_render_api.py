"""`GET /fhir/DiagnosticReport/{id}/$render` and `$convert?presented-form=pdf` through Flask's test
client, on SQLite and PostgreSQL (tests/api/conftest.py)."""

from __future__ import annotations

import base64
import json

from allfhir.report import Lab, render_html
from tests.api.conftest import Api
from tests.api.test_fhir_rest import ARRIBA, EXAMPLE, GENERIC, issue, post, reports

from .page import bars, parse, pdf_text


def stored(api: Api, *files, query: str = "") -> list[dict]:  # type: ignore[no-untyped-def]
    data = {f"file{i}": (f.open("rb"), f.name) for i, f in enumerate(files)}
    r = api.client.post(f"/fhir/$convert{query}", data=data, headers=api.auth("writer"),
                        content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    return reports(r.get_json())


def render(api: Api, rid: str, key: str = "reader", **query: str):  # type: ignore[no-untyped-def]
    return api.client.get(f"/fhir/DiagnosticReport/{rid}/$render", query_string=query,
                          headers=api.auth(key))


def test_render_the_stored_report_as_the_bundle_renders(api: Api) -> None:
    bundle = next(b for b in stored(api, EXAMPLE, ARRIBA)
                  if b["entry"][0]["resource"]["identifier"][0]["value"] == "allsorts:SJBALL043684")
    rid = bundle["entry"][0]["resource"]["id"]
    r = render(api, rid)
    assert (r.status_code, r.content_type, r.headers["ETag"]) == (200, "text/html; charset=utf-8", 'W/"1"')
    html = r.get_data(as_text=True)
    # from the store (Type/id references) exactly what the converted Bundle (urn:uuid) renders
    lab = Lab.from_settings(api.app.extensions["allfhir.settings"])
    assert html == render_html(bundle, lab)
    page = parse(html)
    assert [b for b in bars(page) if b[2]] == [("Ph", 0.932, True)]
    assert page.texts("fusion")[0].startswith("BCR::ABL1 t(9;22)(q34.1;q11.2) 11 0")
    pdf = render(api, rid, format="pdf")
    assert (pdf.status_code, pdf.content_type) == (200, "application/pdf")
    assert pdf.headers["Content-Disposition"] == f'inline; filename="report-{rid}.pdf"'
    text = pdf_text(pdf.get_data())
    assert "0.932 (call)" in text and "BCR::ABL1" in text and "ponatinib" in text


def test_an_amended_report_renders_with_the_banner(api: Api) -> None:
    first = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())[0]
    rid = first["entry"][0]["resource"]["id"]
    assert parse(render(api, rid).get_data(as_text=True)).texts("amended") == []
    changed = json.loads(GENERIC.read_bytes())
    changed["calls"][0]["probability"] = 0.5
    assert post(api, json.dumps(changed).encode(), "application/json").status_code == 200
    r = render(api, rid)
    assert r.headers["ETag"] == 'W/"2"'
    page = parse(r.get_data(as_text=True))
    assert page.texts("amended") == ["AMENDED REPORT (status amended, version 2): this report replaces an "
                                     "earlier version; read it in full."]
    assert "AMENDED REPORT" in pdf_text(render(api, rid, format="pdf").get_data())


def test_refusals_are_operation_outcomes(api: Api) -> None:
    rid = stored(api, EXAMPLE)[0]["entry"][0]["resource"]["id"]
    assert issue(render(api, rid, format="docx")) == (400, "value", "format 'docx' is not one of: html, pdf")
    assert issue(render(api, "no-such-report")) == (404, "not-found",
                                                     "DiagnosticReport/no-such-report is not known")
    assert issue(render(api, "bad id!")) == (400, "value", "'bad id!' is not a FHIR id")
    # the page shows the report's results, tasks, trials and device: a read of each
    assert issue(render(api, rid, key="report-reader")) == (
        403, "forbidden", "the API key 'report-reader' lacks the scope for this request: needs "
        "system/Observation.r, system/Task.r, system/ResearchStudy.r, system/Device.r")
    unauthenticated = api.client.get(f"/fhir/DiagnosticReport/{rid}/$render")
    assert issue(unauthenticated)[0] == 401


def test_declared_in_the_capability_statement_and_openapi(api: Api) -> None:
    cs = api.client.get("/fhir/metadata").get_json()
    report = next(r for r in cs["rest"][0]["resource"] if r["type"] == "DiagnosticReport")
    assert report["operation"][0] == {"name": "render",
                                      "definition": "https://allfhir.org/fhir/OperationDefinition/render"}
    doc = api.client.get("/openapi.json").get_json()
    op = doc["paths"]["/fhir/DiagnosticReport/{rid}/$render"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["rid", "format"]
    assert sorted(op["responses"]["200"]["content"]) == ["application/pdf", "text/html"]
    assert op["security"] == [{"bearer": []}, {"apiKey": []}]
    assert "presented-form" in [p["name"] for p in doc["paths"]["/fhir/$convert"]["post"]["parameters"]]


def test_convert_presented_form_pdf(api: Api) -> None:
    [plain] = stored(api, EXAMPLE, ARRIBA)[:1]
    with_pdf = stored(api, EXAMPLE, ARRIBA, query="?presented-form=pdf")[0]
    html, pdf = with_pdf["entry"][0]["resource"]["presentedForm"]
    assert html == plain["entry"][0]["resource"]["presentedForm"][0]
    assert pdf["contentType"] == "application/pdf"
    assert "0.932 (call)" in pdf_text(base64.b64decode(pdf["data"]))
    bad = api.client.post("/fhir/$convert?presented-form=docx", data=EXAMPLE.read_bytes(),
                          headers={**api.auth("writer"), "Content-Type": "text/csv"})
    assert issue(bad) == (400, "value", "presented-form 'docx' is not supported: pdf (the HTML is always "
                                        "presented)")
