"""The report list (search and paging), the report page, and its downloads."""

from __future__ import annotations

import json
import math
import re

from flask import Response, render_template, request, url_for

from .. import knowledge
from ..api import audit
from ..errors import RequestError
from ..report import render_html, render_pdf
from ..store import reads
from . import reports
from .blueprint import bp, signed_in, store
from .summary import summarise

PAGE = 20
STATUSES = ("preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error")
DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?$")
ID = re.compile(r"[A-Za-z0-9\-.]{1,64}$")
FHIR_JSON = "application/fhir+json"


def _query() -> reports.Query:
    q = reports.Query(**{k: request.args.get(k, "").strip() for k in
                         ("sample", "patient", "subtype", "date", "status")})
    if q.date and not DATE.match(q.date):
        raise RequestError("malformed", f"date '{q.date}' is not YYYY, YYYY-MM or YYYY-MM-DD",
                           code="value")
    if q.status and q.status not in STATUSES:
        raise RequestError("malformed", f"status '{q.status}' is not one of: {', '.join(STATUSES)}",
                           code="value")
    return q


@bp.get("/reports", endpoint="reports")
@signed_in()
def reports_page() -> str:
    q = _query()
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    audit.note("search-type")
    audit.touched(query=True)
    found = reports.search(store(), q, PAGE, (page - 1) * PAGE)
    pages = max(math.ceil(found.total / PAGE), 1)
    kept = {k: v for k, v in vars_of(q).items() if v}
    return render_template(
        "reports.html", q=q, found=found, page=page, pages=pages, statuses=STATUSES,
        subtypes=sorted(knowledge.default().subtypes.values(), key=lambda s: s.display),
        previous=url_for("web.reports", **kept, page=page - 1) if page > 1 else None,
        next=url_for("web.reports", **kept, page=page + 1) if page < pages else None)


def vars_of(q: reports.Query) -> dict[str, str]:
    return {k: getattr(q, k) for k in ("sample", "patient", "subtype", "date", "status")}


def _stored(rid: str) -> dict:
    if not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")
    found = reads.read(store(), "DiagnosticReport", rid)
    if found is None:
        raise RequestError("not-found", f"DiagnosticReport/{rid} is not known")
    audit.note("read")
    audit.touched(f"DiagnosticReport/{rid}")
    return found.resource


@bp.get("/reports/<rid>")
@signed_in()
def report(rid: str) -> str:
    bundle = reports.bundle(store(), _stored(rid))
    entries = [e["resource"] for e in bundle["entry"]]
    dr = entries[0]
    # inside the Bundle a Device is referenced by its fullUrl
    summary = summarise(dr, [r for r in entries if r["resourceType"] == "Observation"],
                        {e["fullUrl"]: e["resource"] for e in bundle["entry"]
                         if e["resource"]["resourceType"] == "Device"})
    return render_template("report.html", summary=summary, report=dr,
                           history=reads.history(store(), "DiagnosticReport", rid))


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, content_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _filename(dr: dict, ext: str) -> str:
    name = next((i["value"] for i in dr.get("identifier", []) if i.get("value")), dr["id"])
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ext


@bp.get("/reports/<rid>/bundle.json")
@signed_in()
def bundle_json(rid: str) -> Response:
    dr = _stored(rid)
    body = json.dumps(reports.bundle(store(), dr), ensure_ascii=False, indent=2)
    return _download(body.encode(), f"{FHIR_JSON}; charset=utf-8", _filename(dr, ".json"))


@bp.get("/reports/<rid>/report.pdf")
@signed_in()
def report_pdf(rid: str) -> Response:
    dr = _stored(rid)
    return _download(render_pdf(reports.bundle(store(), dr)), "application/pdf", _filename(dr, ".pdf"))


@bp.get("/reports/<rid>/report.html")
@signed_in()
def report_html(rid: str) -> Response:
    """The clinical report as its own page (the report page frames it): the report renderer's
    self-contained HTML, with its own print styles, exactly what the PDF and `$render` show."""
    page = render_html(reports.bundle(store(), _stored(rid)))
    return Response(page, content_type="text/html; charset=utf-8")


@bp.get("/reports/<rid>/_history/<vid>")
@signed_in()
def report_version(rid: str, vid: str) -> Response:
    _stored(rid)
    if not vid.isdigit():
        raise RequestError("malformed", f"'{vid}' is not a version id", code="value")
    version = reads.vread(store(), "DiagnosticReport", rid, int(vid))
    if version is None:
        raise RequestError("not-found", f"DiagnosticReport/{rid} version {vid} is not known")
    body = json.dumps(version.resource, ensure_ascii=False, indent=2)
    return _download(body.encode(), f"{FHIR_JSON}; charset=utf-8",
                     _filename(version.resource, f".v{vid}.json"))
