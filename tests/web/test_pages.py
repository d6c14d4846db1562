"""Every page through the Flask test client, on SQLite and PostgreSQL: sign-in and roles, CSRF,
upload through the $convert code, the report list's search and paging, the report page and its
downloads, the renderer seam, the cohort view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from allfhir.store import apikeys, users
from allfhir.store.schema import resources, submissions
from allfhir.web import report_pages
from tests.web.conftest import ARRIBA, EXAMPLE, PASSWORDS, Web

PH = "54882706-6a10-5866-b0d7-f556b44cc702"  # DiagnosticReport id of allsorts:SJBALL043684


def count(web: Web, table) -> int:
    with web.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def text(response) -> str:
    return response.get_data(as_text=True)


def report_ids(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/web/reports/[^"]+">([^<]+)</a>', page)


# --- sign-in, sessions, roles, CSRF -------------------------------------------------------------

def test_pages_send_a_visitor_to_sign_in_and_back(web: Web) -> None:
    r = web.client.get("/web/cohort?month=2026-12")
    assert (r.status_code, r.headers["Location"]) == (302, "/web/sign-in?next=/web/cohort?month%3D2026-12")
    page = text(web.client.get(r.headers["Location"]))
    assert '<label for="name">Name</label>' in page and '<label for="password">Password</label>' in page
    r = web.client.post("/web/sign-in", data={
        "csrf_token": web.token(), "name": "ann", "password": PASSWORDS["ann"],
        "next": "/web/cohort?month=2026-12"})
    assert (r.status_code, r.headers["Location"]) == (302, "/web/cohort?month=2026-12")
    assert web.client.get("/web/cohort").status_code == 200


def test_a_wrong_password_or_name_is_refused_alike_and_another_host_is_never_the_next_page(web: Web) -> None:
    for name, password in (("ann", "not ann's password"), ("nobody", PASSWORDS["ann"])):
        r = web.client.post("/web/sign-in", data={"csrf_token": web.token(), "name": name,
                                                  "password": password})
        assert r.status_code == 401
        assert "The name or the password is wrong." in text(r)
        assert web.client.get("/web/reports").status_code == 302  # still signed out
    r = web.client.post("/web/sign-in", data={"csrf_token": web.token(), "name": "ann",
                                              "password": PASSWORDS["ann"], "next": "https://evil.example/x"})
    assert r.headers["Location"] == "/web/reports"


def test_sign_out_ends_the_session_and_needs_the_token(web: Web) -> None:
    web.sign_in("ann")
    r = web.client.post("/web/sign-out")
    assert r.status_code == 400 and "The CSRF token is missing." in text(r)
    assert web.client.get("/web/reports").status_code == 200  # the refused form changed nothing
    r = web.client.post("/web/sign-out", data={"csrf_token": web.token("/web/reports")})
    assert (r.status_code, r.headers["Location"]) == (302, "/web/sign-in")
    assert web.client.get("/web/reports").status_code == 302


def test_a_removed_user_is_signed_out_on_the_next_request(web: Web) -> None:
    web.sign_in("ann")
    assert users.remove(web.store, "ann")
    assert web.client.get("/web/reports").status_code == 302


def test_a_viewer_reads_but_is_refused_the_upload(web: Web) -> None:
    web.sign_in("vic")
    page = text(web.client.get("/web/reports"))
    assert "vic (viewer)" in page and 'href="/web/upload"' not in page
    r = web.client.get("/web/upload")
    assert r.status_code == 403
    assert "signed in as &#39;vic&#39; (role viewer): this page needs the role lab" in text(r)
    token = web.token("/web/reports")
    r = web.client.post("/web/upload", content_type="multipart/form-data",
                        data={"csrf_token": token, "files": [(EXAMPLE.open("rb"), EXAMPLE.name)]})
    assert r.status_code == 403 and count(web, submissions) == 0


def test_a_token_of_another_session_is_refused(web: Web) -> None:
    web.sign_in("ann")
    web.token("/web/upload")  # ann's session holds its own token
    other = web.app.test_client()
    stolen = re.search(r'name="csrf_token" value="([^"]+)"', text(other.get("/web/sign-in")))[1]
    r = web.client.post("/web/upload", data={"csrf_token": stolen,
                                             "files": [(EXAMPLE.open("rb"), EXAMPLE.name)]},
                        content_type="multipart/form-data")
    assert r.status_code == 400 and "The CSRF tokens do not match." in text(r)
    assert count(web, submissions) == 0


def test_the_api_keeps_no_session_and_needs_no_csrf_token(web: Web) -> None:
    key = apikeys.create(web.store, "lims", ["system/*.read", "system/*.write"])
    r = web.client.post("/fhir/$convert", data=EXAMPLE.read_bytes(), content_type="text/csv",
                        headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert "Set-Cookie" not in web.client.get("/fhir/metadata").headers


# --- upload ---------------------------------------------------------------------------------------

def test_upload_converts_and_stores_as_convert_does(web: Web) -> None:
    web.sign_in("ann")
    page = text(web.client.get("/web/upload"))
    assert 'enctype="multipart/form-data"' in page and '<label for="files">' in page
    r = web.upload(EXAMPLE, ARRIBA, patient="Patient/p1")
    assert r.status_code == 200
    page = text(r)
    assert "3 reports stored" in page
    assert re.findall(r'<th scope="row">([^<]+)</th>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>', page) == [
        ("probabilities.csv", "allsorts", "classifier"),
        ("SJBALL043684.arriba.fusions.tsv", "arriba", "companion")]
    assert f'href="/web/reports/{PH}">allsorts:SJBALL043684</a>' in page
    with web.store.engine.connect() as conn:
        row = conn.execute(select(submissions.c.client, submissions.c.content_type,
                                  submissions.c.body, submissions.c.result)).one()
    assert (row.client, row.content_type) == ("user:ann", "multipart/form-data")
    assert EXAMPLE.read_bytes() in row.body and ARRIBA.read_bytes() in row.body  # the raw upload kept
    # the same files and options through the REST $convert: the same submission, answered from
    # the store with the same reports (one code path)
    key = apikeys.create(web.store, "lims", ["system/*.read", "system/*.write"])
    files = [(EXAMPLE.open("rb"), EXAMPLE.name), (ARRIBA.open("rb"), ARRIBA.name)]
    rest = web.client.post("/fhir/$convert?patient=Patient/p1", headers={"Authorization": f"Bearer {key}"},
                           data={"file": files}, content_type="multipart/form-data")
    assert rest.status_code == 200
    assert [p["resource"] for p in rest.get_json()["parameter"]] == row.result["reports"]
    assert count(web, submissions) == 1
    # the same upload again: answered from the store
    assert "3 reports already stored" in text(web.upload(EXAMPLE, ARRIBA, patient="Patient/p1"))


def test_upload_with_specimen_and_order_names_them_on_every_report(web: Web) -> None:
    web.sign_in("ann")
    r = web.upload(EXAMPLE, specimen="http://lims.example/specimen|S-77", order="ORD-1234")
    assert r.status_code == 200
    with web.store.engine.connect() as conn:
        reports = conn.execute(select(submissions.c.result)).one().result["reports"]
    order = [{"type": "ServiceRequest", "identifier": {
        "system": "https://allfhir.org/fhir/NamingSystem/order-id", "value": "ORD-1234"}}]
    for bundle in reports:
        dr = bundle["entry"][0]["resource"]
        assert dr["basedOn"] == order
        assert dr["specimen"] == [{"identifier": {"system": "http://lims.example/specimen", "value": "S-77"}}]
    # the form is emptied once its upload is stored
    assert 'name="order" value=""' in text(r)


def test_a_malformed_field_is_shown_on_the_form_and_nothing_is_stored(web: Web) -> None:
    web.sign_in("ann")
    r = web.upload(EXAMPLE, order="http://lims.example/order|")
    assert r.status_code == 400
    page = text(r)
    assert "order &#39;http://lims.example/order|&#39; has no identifier value" in page
    assert 'name="order" value="http://lims.example/order|"' in page
    assert count(web, submissions) == 0


def test_a_bad_file_shows_each_problem_beside_its_file_and_line_and_stores_nothing(web: Web,
                                                                                   tmp_path: Path) -> None:
    bad = tmp_path / "cohort.csv"
    # one bad row among good ones: the REST $convert would store the good ones; the page none
    bad.write_text(EXAMPLE.read_text().replace(",High hyperdiploid\n", ",Purple\n"))
    web.sign_in("ann")
    r = web.upload(bad, ARRIBA)
    assert r.status_code == 422
    page = text(r)
    problems = re.findall(r'<ul class="problems" aria-label="Problems in ([^"]+)">\s*<li class="problem">'
                          r'<span class="where">([^<]+)</span>: ([^<]+)</li>', page)
    assert [(f, where) for f, where, _ in problems] == [("cohort.csv", "cohort.csv, line 3, column 'Pred'")]
    assert problems[0][2].startswith("unknown ALLSorts label &#39;Purple&#39;; known labels: BCL2/MYC")
    assert "Nothing was stored: correct the files and upload them again." in page
    assert (count(web, submissions), count(web, resources)) == (0, 0)


def test_files_stored_through_the_api_with_refused_rows_show_those_rows(web: Web, tmp_path: Path) -> None:
    bad = tmp_path / "cohort.csv"
    bad.write_text(EXAMPLE.read_text().replace(",High hyperdiploid\n", ",Purple\n"))
    key = apikeys.create(web.store, "lims", ["system/*.read", "system/*.write"])
    rest = web.client.post("/fhir/$convert", headers={"Authorization": f"Bearer {key}"},
                           data={"file": [(bad.open("rb"), bad.name)]}, content_type="multipart/form-data")
    assert rest.status_code == 200  # the API keeps the good rows
    web.sign_in("ann")
    page = text(web.upload(bad))
    assert "2 reports already stored" in page
    assert "Rows refused when these files were first converted:" in page
    assert "<li class=\"problem\">cohort.csv, line 3, column &#39;Pred&#39;: unknown ALLSorts label" in page


def test_an_unrecognised_file_and_an_empty_form_are_explained(web: Web, tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    web.sign_in("ann")
    page = text(web.upload(odd))
    assert re.search(r'<th scope="row">notes.txt</th>\s*<td>not recognised</td>', page)
    assert "notes.txt, line 1</span>: format not recognised; pass --format with one of" in page
    r = web.client.post("/web/upload", data={"csrf_token": web.token("/web/upload")},
                        content_type="multipart/form-data")
    assert r.status_code == 400
    assert "the multipart body carries no file" in text(r)
    assert count(web, submissions) == 0


# --- the report list -----------------------------------------------------------------------------

@pytest.fixture
def stored(web: Web, tmp_path: Path) -> Web:
    web.sign_in("ann")
    assert web.upload(EXAMPLE, ARRIBA, patient="http://hospital.example/mrn|42").status_code == 200
    unclassified = tmp_path / "second.csv"
    header = EXAMPLE.read_text().splitlines()[0]
    unclassified.write_text(header + "\nSJX9" + ",0.01" * 20 + ",Unclassified\n")
    assert web.upload(unclassified, patient="Patient/p9").status_code == 200
    return web


def test_the_list_searches_by_sample_patient_subtype_date_and_status(stored: Web) -> None:
    get = stored.client.get
    everything = sorted(report_ids(text(get("/web/reports"))))
    assert everything == ["allsorts:SJALL015972", "allsorts:SJBALL014030", "allsorts:SJBALL043684",
                          "allsorts:SJX9"]
    assert report_ids(text(get("/web/reports?sample=SJBALL043684"))) == ["allsorts:SJBALL043684"]
    mrn = "http://hospital.example/mrn|42"
    assert sorted(report_ids(text(get(f"/web/reports?patient={mrn}")))) == everything[:3]
    assert report_ids(text(get("/web/reports?patient=Patient/p9"))) == ["allsorts:SJX9"]
    assert report_ids(text(get("/web/reports?subtype=ph"))) == ["allsorts:SJBALL043684"]
    assert report_ids(text(get("/web/reports?subtype=Unclassified"))) == ["allsorts:SJX9"]
    assert report_ids(text(get("/web/reports?subtype=ph-like&sample=SJBALL014030"))) == [
        "allsorts:SJBALL014030"]
    stored_on = stored.client.get(f"/web/reports/{PH}").get_data(as_text=True)
    day = re.search(r"<dt>Date</dt><dd>(\d{4}-\d{2}-\d{2})</dd>", stored_on)[1]
    assert sorted(report_ids(text(get(f"/web/reports?date={day[:7]}")))) == everything
    assert report_ids(text(get("/web/reports?date=1999"))) == []
    assert sorted(report_ids(text(get("/web/reports?status=final")))) == everything
    assert report_ids(text(get("/web/reports?status=amended"))) == []
    assert "0 reports" in text(get("/web/reports?status=amended"))


def test_the_list_refuses_a_malformed_date_or_status(stored: Web) -> None:
    r = stored.client.get("/web/reports?date=12/2026")
    assert r.status_code == 400 and "date &#39;12/2026&#39; is not YYYY, YYYY-MM or YYYY-MM-DD" in text(r)
    r = stored.client.get("/web/reports?status=done")
    assert r.status_code == 400 and "status &#39;done&#39; is not one of: preliminary, final" in text(r)


def test_the_list_pages_and_its_links_keep_the_search(stored: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_pages, "PAGE", 3)
    page = stored.client.get(f"/web/reports/{PH}").get_data(as_text=True)
    year = re.search(r"<dt>Date</dt><dd>(\d{4})-", page)[1]
    for query in ("status=final", f"date={year}"):  # one answered by the index, one filtered after
        first = text(stored.client.get(f"/web/reports?{query}"))
        assert "4 reports, page 1 of 2" in first and len(report_ids(first)) == 3
        assert "Previous page" not in first
        nxt = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)[1].replace("&amp;", "&")
        assert query in nxt and "page=2" in nxt
        second = text(stored.client.get(nxt))
        assert "page 2 of 2" in second and "Next page" not in second and 'rel="prev"' in second
        assert sorted(report_ids(first) + report_ids(second)) == [
            "allsorts:SJALL015972", "allsorts:SJBALL014030", "allsorts:SJBALL043684", "allsorts:SJX9"]


# --- the report page and its downloads ------------------------------------------------------------

def test_the_report_page_shows_the_narrative_facts_and_history(stored: Web, tmp_path: Path) -> None:
    page = text(stored.client.get(f"/web/reports/{PH}"))
    assert "<h1>Report allsorts:SJBALL043684</h1>" in page
    assert "<dt>Patient</dt><dd>http://hospital.example/mrn|42</dd>" in page
    assert "<dt>Classifier</dt><dd>ALLSorts</dd>" in page
    assert f'<iframe class="report-frame" title="The clinical report of allsorts:SJBALL043684"\n' \
           f'          src="/web/reports/{PH}/report.html"></iframe>' in page
    assert 'href="/web/reports/' + PH + '/bundle.json"' in page
    assert f'href="/web/reports/{PH}/report.pdf"' in page and "Amended" not in page
    assert len(re.findall(r"version \d \(FHIR JSON\)", page)) == 1
    # a changed submission of the same report (without its fusions): version 2, amended
    assert stored.upload(EXAMPLE, patient="http://hospital.example/mrn|42").status_code == 200
    page = text(stored.client.get(f"/web/reports/{PH}"))
    assert "Amended: this report replaces an earlier version" in page
    assert re.findall(r"version (\d) \(FHIR JSON\)", page) == ["2", "1"]
    v1 = stored.client.get(f"/web/reports/{PH}/_history/1")
    assert v1.headers["Content-Disposition"] == 'attachment; filename="allsorts_SJBALL043684.v1.json"'
    assert (v1.get_json()["meta"]["versionId"], v1.get_json()["status"]) == ("1", "final")
    assert stored.client.get(f"/web/reports/{PH}/_history/7").status_code == 404
    assert stored.client.get(f"/web/reports/{PH}/_history/x").status_code == 400


def test_the_fhir_download_is_the_report_bundle_with_resolvable_references(stored: Web) -> None:
    r = stored.client.get(f"/web/reports/{PH}/bundle.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="allsorts_SJBALL043684.json"'
    bundle = json.loads(r.data)
    with stored.store.engine.connect() as conn:
        original = conn.execute(select(submissions.c.result)).first().result["reports"]
    first = next(b for b in original if b["entry"][0]["resource"]["id"] == PH)
    # the pipeline's Bundle, put back together from the stored resources
    assert bundle["entry"][0]["fullUrl"] == f"urn:uuid:{PH}"
    assert sorted(e["fullUrl"] for e in bundle["entry"]) == sorted(e["fullUrl"] for e in first["entry"])
    by_url = {e["fullUrl"]: e["resource"] for e in first["entry"]}
    assert all(e["resource"] == by_url[e["fullUrl"]] for e in bundle["entry"])


def test_an_unknown_report_is_a_404_page(stored: Web) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    for path in ("", "/report.html", "/report.pdf", "/bundle.json"):
        r = stored.client.get(f"/web/reports/{unknown}{path}")
        assert r.status_code == 404 and f"DiagnosticReport/{unknown} is not known" in text(r)
        assert r.headers["Content-Type"].startswith("text/html")


def test_the_framed_report_and_the_pdf_are_the_clinical_renderers(stored: Web) -> None:
    from allfhir.report import render_html

    page = stored.client.get(f"/web/reports/{PH}/report.html")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    bundle = stored.client.get(f"/web/reports/{PH}/bundle.json").get_json()
    assert text(page) == render_html(bundle)  # the stored Bundle renders as the converted one
    assert "driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates)" in text(page)
    pdf = stored.client.get(f"/web/reports/{PH}/report.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="allsorts_SJBALL043684.pdf"'


# --- the cohort view ------------------------------------------------------------------------------

def test_the_cohort_view_counts_subtypes_unclassified_and_probabilities(stored: Web) -> None:
    page = text(stored.client.get("/web/cohort"))
    assert '<dd id="total-reports">4</dd>' in page
    assert '<dd id="share-unclassified">1 (25%)</dd>' in page
    subtypes = page[page.index('id="subtypes"'):page.index("</svg>", page.index('id="subtypes"'))]
    assert re.findall(r'class="label">([^<]+)</text><rect[^>]*fill="([^"]+)"[^>]*/>'
                      r'<text[^>]*class="value">([^<]+)</text>', subtypes) == [
        ("High hyperdiploid", "currentColor", "1 (25%)"),
        ("Low hypodiploid", "currentColor", "1 (25%)"),
        ("Ph (BCR::ABL1)", "currentColor", "1 (25%)"),
        ("Unclassified", "url(#subtypes-hatch)", "1 (25%)")]
    probs = page[page.index('id="probabilities"'):page.index("</svg>", page.index('id="probabilities"'))]
    values = re.findall(r'class="value">(\d+)</text><text[^>]*class="label">([0-9.]+)</text>', probs)
    # 0.932, 0.902, 0.999; ALLSorts gives no probability for an Unclassified call
    assert [(band, n) for n, band in values if n != "0"] == [("0.9", "3")]
    assert "0.932 (3 with one)" in page
    assert "<desc id=\"subtypes-desc\">High hyperdiploid: 1 (25%); Low hypodiploid" in page
    assert re.search(r'<th scope="row"><a href="[^"]+">ALLSorts</a></th><td class="num">4</td>', page)


def test_the_cohort_view_filters_by_classifier_and_month(stored: Web) -> None:
    assert '<dd id="total-reports">4</dd>' in text(stored.client.get("/web/cohort?classifier=ALLSorts"))
    assert '<dd id="total-reports">0</dd>' in text(stored.client.get("/web/cohort?classifier=MD-ALL"))
    assert '<dd id="total-reports">0</dd>' in text(stored.client.get("/web/cohort?month=1999-01"))


# --- what the pages ship --------------------------------------------------------------------------

def test_the_pages_load_nothing_from_another_host(stored: Web) -> None:
    css = stored.client.get("/web/static/web.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert stored.client.get("/web/static/upload.js").status_code == 200
    assert stored.client.get("/web/static/../__init__.py").status_code == 404
    for path in ("/web/reports", f"/web/reports/{PH}", "/web/upload", "/web/cohort"):
        page = text(stored.client.get(path))
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        assert re.findall(r'<link rel="stylesheet" href="([^"]+)">', page) == ["/web/static/web.css"]
    assert "url(http" not in css.get_data(as_text=True) and "@import" not in css.get_data(as_text=True)
