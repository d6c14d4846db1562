"""The rendered PDF embedded in the report itself: DiagnosticReport.presentedForm gets an
`application/pdf` attachment beside the HTML one (EHR viewers show presentedForm, and many show
only PDF). On request only (`allfhir convert --presented-form pdf`, `$convert?presented-form=pdf`):
it makes every Bundle tens of kilobytes larger.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

Json = dict[str, Any]
PDF = "application/pdf"


def with_pdf(bundle: Json) -> Json:
    """A copy of the Bundle whose DiagnosticReport also presents the report as PDF. The PDF is
    rendered from the Bundle as it was, so it is the page `allfhir report` makes of it."""
    from . import render_pdf

    pdf = render_pdf(bundle)
    out = copy.deepcopy(bundle)
    for entry in out.get("entry", []):
        res = entry.get("resource") or {}
        if res.get("resourceType") != "DiagnosticReport":
            continue
        forms = [f for f in res.get("presentedForm", []) if f.get("contentType") != PDF]
        title = next((f["title"] for f in forms if f.get("title")), None)
        form: Json = {"contentType": PDF, "language": "en",
                      "data": base64.b64encode(pdf).decode("ascii")}
        if title:
            form["title"] = title
        res["presentedForm"] = [*forms, form]
        break
    return out
