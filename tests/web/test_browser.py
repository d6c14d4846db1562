"""The pages in a real headless Chromium (Debian's, driven by Playwright) against a real
`allfhir serve` on 127.0.0.1: sign in, upload the README example, read the report, download its
FHIR JSON and its PDF, search for it and open it, the cohort view's charts, a bad file's
line-numbered error, a viewer's refusal, a form without its CSRF token."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest

from tests.api.test_server import Server, running_server
from tests.conftest import fresh_database
from tests.web.conftest import ARRIBA, EXAMPLE, PASSWORDS

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists() and os.environ.get("CI", "").lower() != "true":
    pytest.skip("Debian chromium is not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web-serve")
    with fresh_database("sqlite", tmp, migrate=False) as url, running_server(url) as (srv, _):
        env = {**os.environ, "ALLFHIR_DATABASE_URL": url}
        for name, role in (("ann", "lab"), ("vic", "viewer")):
            # the password on standard input, as a script gives it
            subprocess.run([sys.executable, "-m", "allfhir", "user", "add", name, "--role", role],
                           input=PASSWORDS[name] + "\n", env=env, check=True, capture_output=True,
                           text=True)
        yield srv


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_api.sync_playwright() as pw:
        # Playwright passes the profile as --user-data-dir itself (it refuses it in `args`)
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            accept_downloads=True)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    browser.clear_cookies()  # every test signs in itself
    p = browser.new_page()
    yield p
    p.close()


def sign_in(page, server: Server, name: str) -> None:
    page.goto(f"{server.url}/web/reports")
    assert page.url == f"{server.url}/web/sign-in?next=/web/reports"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/web/reports")


def test_lab_uploads_the_readme_example_reads_the_report_and_downloads_its_fhir(page, server) -> None:
    sign_in(page, server, "ann")
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Classifier file and its fusion / VCF companion files").set_input_files(
        [str(EXAMPLE), str(ARRIBA)])
    page.get_by_label("Patient (Patient/123 or system|value)").fill("Patient/p-43684")
    page.get_by_role("button", name="Convert and store").click()

    assert page.get_by_role("heading", level=2, name="3 reports stored").is_visible()
    rows = page.locator("table.files tbody tr")
    assert [rows.nth(i).locator("th, td").all_inner_texts()[:3] for i in range(rows.count())] == [
        ["probabilities.csv", "allsorts", "classifier"],
        ["SJBALL043684.arriba.fusions.tsv", "arriba", "companion"]]
    page.get_by_role("link", name="allsorts:SJBALL043684").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Report allsorts:SJBALL043684"
    facts = page.locator("dl.facts")
    assert "Patient/p-43684" in facts.inner_text() and "ALLSorts" in facts.inner_text()
    framed = page.frame_locator("iframe.report-frame").locator("body").inner_text()
    assert "driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates)" in framed
    assert "BCP-ALL molecular subtype report - sample SJBALL043684" in framed
    assert page.locator("table.history tbody tr").count() == 1
    assert page.get_by_role("link", name="PDF").count() == 1

    with page.expect_download() as info:
        page.get_by_role("link", name="FHIR JSON (Bundle)").click()
    download = info.value
    assert download.suggested_filename == "allsorts_SJBALL043684.json"
    bundle = json.loads(Path(download.path()).read_text())
    report = bundle["entry"][0]["resource"]
    assert (bundle["resourceType"], bundle["type"], report["resourceType"]) == (
        "Bundle", "collection", "DiagnosticReport")
    assert report["identifier"][0]["value"] == "allsorts:SJBALL043684"
    assert report["subject"] == {"reference": "Patient/p-43684"}
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert {r["reference"] for r in report["result"]} <= full_urls  # resolvable inside the Bundle


def test_search_and_cohort_show_the_uploaded_reports(page, server) -> None:
    sign_in(page, server, "ann")
    page.get_by_label("Sample").fill("SJBALL043684")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("status").inner_text() == "1 report"
    assert page.locator("table.reports tbody th").all_inner_texts() == ["allsorts:SJBALL043684"]
    page.get_by_role("link", name="Cohort").click()
    assert page.locator("#total-reports").inner_text() == "3"
    bars = page.locator("svg#subtypes g.bar text.label").all_text_contents()
    assert sorted(bars) == ["High hyperdiploid", "Low hypodiploid", "Ph (BCR::ABL1)"]


def open_report(page, server: Server, sample: str) -> None:
    """Search the report list for `sample` and open its one report."""
    page.goto(f"{server.url}/web/reports")
    page.get_by_label("Sample").fill(sample)
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("status").inner_text() == "1 report"
    page.get_by_role("link", name=f"allsorts:{sample}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Report allsorts:{sample}"


def test_the_report_page_downloads_the_pdf_and_it_holds_the_report(page, server) -> None:
    sign_in(page, server, "ann")
    open_report(page, server, "SJBALL043684")
    with page.expect_download() as info:
        page.get_by_role("link", name="PDF").click()
    download = info.value
    assert download.suggested_filename == "allsorts_SJBALL043684.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    # pypdf breaks lines where the layout does, and may break a table cell anywhere
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "BCP-ALL molecular subtype report - sample SJBALL043684" in text
    call = ("Ph (BCR::ABL1). ALLSorts: expression class Ph (BCR::ABL1) ('Ph', probability 0.932). "
            "driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates). WHO-HAEM5: "
            "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion (Alaggio et al., Leukemia 2022, "
            "doi:10.1038/s41375-022-01620-2)")
    fusion = ("BCR::ABL1 t(9;22)(q34.1;q11.2) 11 0 5' breakpoint 22:23632600; 3' breakpoint "
              "9:133729451 Arriba (high), in-frame")
    for shown in (call, fusion):
        assert shown.replace(" ", "") in text.replace(" ", ""), shown
    assert "0.932 (call)" in text


def test_a_search_finds_the_uploaded_report_and_opens_it(page, server) -> None:
    sign_in(page, server, "ann")
    page.get_by_label("Subtype").fill("Ph (BCR::ABL1)")  # a subtype by its name, as listed
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("status").inner_text() == "1 report"
    row = page.locator("table.reports tbody tr")
    assert row.locator("th, td").all_inner_texts()[:5] == [
        "allsorts:SJBALL043684", "SJBALL043684", "Patient/p-43684", "Ph (BCR::ABL1)", "0.932"]
    row.get_by_role("link", name="allsorts:SJBALL043684").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Report allsorts:SJBALL043684"
    framed = page.frame_locator("iframe.report-frame").locator("body").inner_text()
    assert "driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates)" in framed


def bars(page, chart: str) -> list[tuple[str, str, bool]]:
    """(label, value text, hatched) of every bar of the cohort chart `chart`, in order."""
    found = page.locator(f"svg#{chart} g.bar")
    return [(found.nth(i).locator("text.label").text_content(),
             found.nth(i).locator("text.value").text_content(),
             "bar-marked" in found.nth(i).get_attribute("class")) for i in range(found.count())]


def test_the_cohort_view_charts_the_uploaded_cohort(page, server) -> None:
    sign_in(page, server, "ann")
    page.get_by_role("link", name="Cohort").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cohort"
    assert page.locator("#share-unclassified").inner_text() == "0 (0%)"
    # the README example: one report per sample, each its leading call
    assert bars(page, "subtypes") == [("High hyperdiploid", "1 (33%)", False),
                                      ("Low hypodiploid", "1 (33%)", False),
                                      ("Ph (BCR::ABL1)", "1 (33%)", False)]
    # 0.902, 0.932 and 0.999 all fall in the last band
    assert bars(page, "probabilities") == [
        (f"{band / 10:.1f}", "3" if band == 9 else "0", False) for band in range(10)]
    assert bars(page, "months") == [(datetime.now(UTC).strftime("%Y-%m"), "3", False)]
    assert page.locator("svg#subtypes").is_visible() and page.locator("svg#months").is_visible()


def test_a_bad_file_shows_its_line_numbered_error_and_nothing_is_stored(page, server,
                                                                        tmp_path: Path) -> None:
    bad = tmp_path / "bad-probabilities.csv"
    bad.write_text(EXAMPLE.read_text().replace("SJALL015972,0.008", "SJALL015972,high"))
    sign_in(page, server, "ann")
    before = page.get_by_role("status").inner_text()
    page.goto(f"{server.url}/web/upload")
    page.get_by_label("Classifier file and its fusion / VCF companion files").set_input_files(str(bad))
    page.get_by_role("button", name="Convert and store").click()

    problem = page.get_by_role("list", name="Problems in bad-probabilities.csv")
    assert problem.inner_text() == ("bad-probabilities.csv, line 3, column 'TCF3-PBX1': "
                                    "'high' is not a number")
    assert page.locator("#nothing-stored").is_visible()
    page.goto(f"{server.url}/web/reports")
    assert page.get_by_role("status").inner_text() == before


def test_a_viewer_reads_but_cannot_upload(page, server) -> None:
    sign_in(page, server, "vic")
    assert page.get_by_role("link", name="Upload").count() == 0
    response = page.goto(f"{server.url}/web/upload")
    assert response.status == 403
    assert page.get_by_role("alert").inner_text() == (
        "ERROR signed in as 'vic' (role viewer): this page needs the role lab")


def test_a_form_without_its_csrf_token_is_refused(page, server) -> None:
    sign_in(page, server, "ann")
    page.goto(f"{server.url}/web/upload")
    page.locator("#upload-form input[name=csrf_token]").evaluate("e => e.remove()")
    page.get_by_label("Classifier file and its fusion / VCF companion files").set_input_files(str(EXAMPLE))
    with page.expect_response(f"{server.url}/web/upload") as answer:
        page.get_by_role("button", name="Convert and store").click()
    assert answer.value.status == 400
    assert "The CSRF token is missing." in page.get_by_role("alert").inner_text()


def test_files_dropped_on_the_form_are_uploaded(page, server) -> None:
    sign_in(page, server, "ann")
    page.goto(f"{server.url}/web/upload")
    # a drop carrying the README's classifier file, as the browser builds it from a desktop drag
    page.locator("#drop").evaluate("""(zone, [name, text]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], name, {type: "text/csv"}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [EXAMPLE.name, EXAMPLE.read_text()])
    assert page.locator("#chosen li").all_inner_texts() == [
        f"{EXAMPLE.name} ({EXAMPLE.stat().st_size:,} bytes)"]
    page.get_by_role("button", name="Convert and store").click()
    # the same classifier file without its fusions: a changed report, so new versions
    assert page.get_by_role("heading", level=2, name="3 reports stored").is_visible()
