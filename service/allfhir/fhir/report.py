"""The genomic report: one DiagnosticReport per sample, listing every result, with a narrative."""

from __future__ import annotations

import base64
from html import escape

from .. import codes
from ..worked import Worked
from .common import Json, ReportContext, coding, concept, loinc


def build(ctx: ReportContext, results: list[Json], conclusion: str, narrative_rows: list[tuple[str, str]],
          title: str, actions: list[Json] | None = None) -> Json:
    """The DiagnosticReport; `actions` the references of its recommended actions (Tasks)."""
    div = narrative(title, narrative_rows, conclusion)
    report: Json = {
        "resourceType": "DiagnosticReport",
        "id": ctx.new_id("report"),
        "meta": {"profile": [codes.PROFILE_GENOMIC_REPORT]},
        "text": {"status": "generated", "div": div},
        # FHIR JSON puts extension right after text
        **({"extension": [{"url": codes.EXT_RECOMMENDED_ACTION, "valueReference": a}
                          for a in actions]} if actions else {}),
        "identifier": [{"system": ctx.systems.report, "value": ctx.key}],
        **({"basedOn": [ctx.based_on]} if ctx.based_on else {}),
        "status": "final",
        "category": [concept(coding(codes.DIAGNOSTIC_SERVICE, "GE", "Genetics"))],
        "code": loinc(codes.LOINC_GENOMIC_REPORT),
    }
    if ctx.subject:
        report["subject"] = ctx.subject
    if ctx.effective:
        report["effectiveDateTime"] = ctx.effective
    if ctx.specimen:
        report["specimen"] = [ctx.specimen]
    report["result"] = [{"reference": f"urn:uuid:{r['id']}"} for r in results]
    report["conclusion"] = conclusion
    # The same page as an attachment: EHR report viewers show presentedForm, not the narrative.
    report["presentedForm"] = [{"contentType": "text/html; charset=utf-8", "language": "en",
                                "data": base64.b64encode(div.encode("utf-8")).decode("ascii"),
                                "title": title}]
    return report


# A row of the table, escaped, by its finding and result: the rows of rules and follow-ups are the
# same strings for every sample they apply to (the same objects: their hashes are known). Small:
# each sample's own rows pass through it too, and a row of a rule is escaped again at worst once
# per few hundred samples.
_rows: Worked[str] = Worked(256)


def narrative(title: str, rows: list[tuple[str, str]], conclusion: str) -> str:
    """XHTML for humans: what a molecular pathologist reads on the EHR's report view."""
    body = "".join([_rows.get(row) or _rows.put(row, None, f"<tr><td>{escape(row[0])}</td><td>"
                                                       f"{escape(row[1])}</td></tr>")
                    for row in rows])
    return (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        f"<h3>{escape(title)}</h3>"
        f"<p><b>Conclusion:</b> {escape(conclusion)}</p>"
        f"<table><tr><th>Finding</th><th>Result</th></tr>{body}</table>"
        "</div>"
    )
