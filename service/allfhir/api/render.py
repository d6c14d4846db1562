"""`GET /fhir/DiagnosticReport/{id}/$render?format=html|pdf`: the stored report for people.

The stored report and the resources it names (its results, their derivedFrom and devices, its
recommended-action Tasks and their ResearchStudies) are read through the store's reads and put
in one collection Bundle, which allfhir.report renders exactly as it renders a converted one:
the page comes from the Bundle alone. A read of the report shows all of them, so the key needs
read scope on every type shown, as `_include` does.
"""

from __future__ import annotations

import re
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..errors import RequestError
from ..report import Lab, render_html, render_pdf
from ..store import Store, reads
from . import audit
from .auth import requires
from .fhir import ID

bp = Blueprint("render", __name__)
Json = dict[str, Any]

# what the report shows, and so what a key must be allowed to read to see it
SHOWN = ("DiagnosticReport", "Observation", "Task", "ResearchStudy", "Device")
FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
_REFERENCE = re.compile(rf"^({'|'.join(SHOWN)})/([A-Za-z0-9\-.]{{1,64}})$")
MOST = 2000  # resources one report may pull in (a guard against a reference cycle gone wild)


def _needs(rid: str) -> list[tuple[str, str]]:
    return [(t, "r") for t in SHOWN]


@bp.get("/DiagnosticReport/<rid>/$render")
@requires("operation", _needs)
def render(rid: str) -> Response:
    """The stored report rendered for people, as HTML or PDF (format=html|pdf)."""
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        raise RequestError("malformed", f"format '{fmt}' is not one of: html, pdf", code="value")
    if not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")
    store: Store = current_app.extensions["allfhir.store"]
    current = reads.read(store, "DiagnosticReport", rid)
    if current is None:
        raise RequestError("not-found", f"DiagnosticReport/{rid} is not known")
    bundle = report_bundle(store, current.resource)
    audit.touched(*(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]))
    lab = Lab.from_settings(current_app.extensions["allfhir.settings"])
    body: str | bytes = render_pdf(bundle, lab) if fmt == "pdf" else render_html(bundle, lab)
    response = Response(body, content_type=FORMATS[fmt])
    response.headers["ETag"] = f'W/"{current.version_id}"'
    response.headers["Last-Modified"] = format_datetime(current.last_updated, usegmt=True)
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'inline; filename="report-{rid}.pdf"'
    return response


def report_bundle(store: Store, report: Json) -> Json:
    """The report and everything it references (transitively), current versions, as a Bundle."""
    found: dict[tuple[str, str], Json] = {("DiagnosticReport", report["id"]): report}
    wanted = _references(report)
    while wanted and len(found) < MOST:
        new = [k for k in dict.fromkeys(wanted) if k not in found]
        wanted = []
        for res in reads.read_many(store, new):
            found[(res["resourceType"], res["id"])] = res
            wanted += _references(res)
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"{t}/{i}", "resource": r} for (t, i), r in found.items()]}


def _references(node: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        ref = node.get("reference")
        m = _REFERENCE.match(ref) if isinstance(ref, str) else None
        if m:
            out.append((m.group(1), m.group(2)))
        for value in node.values():
            out += _references(value)
    elif isinstance(node, list):
        for value in node:
            out += _references(value)
    return out
