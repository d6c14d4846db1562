"""The seam between the pages and the clinical report renderer (`allfhir.report`).

`report_html` is the one place that decides how a report Bundle is shown: through
`allfhir.report.render_html` when that module is installed, otherwise the DiagnosticReport's own
narrative (text.div). `report_pdf` likewise: the renderer's PDF, or the PDF the report carries in
`presentedForm`, or None (then the page offers no PDF).
"""

from __future__ import annotations

import base64
import importlib
from types import ModuleType
from typing import Any

from markupsafe import Markup

Json = dict[str, Any]


def _renderer() -> ModuleType | None:
    try:
        return importlib.import_module("allfhir.report")
    except ModuleNotFoundError as exc:
        if exc.name in ("allfhir.report",):
            return None
        raise  # the renderer is there but one of its own imports is missing: say so


def _report(bundle: Json) -> Json:
    return bundle["entry"][0]["resource"]


def report_html(bundle: Json) -> Markup:
    renderer = _renderer()
    if renderer is not None and hasattr(renderer, "render_html"):
        return Markup(renderer.render_html(bundle))
    # Our pipeline wrote this narrative (escaping every value it took from the input) and only
    # the pipeline writes to the store, so it is shown as the XHTML it is.
    return Markup(_report(bundle).get("text", {}).get("div", ""))


def report_pdf(bundle: Json) -> bytes | None:
    renderer = _renderer()
    if renderer is not None and hasattr(renderer, "render_pdf"):
        return renderer.render_pdf(bundle)
    for form in _report(bundle).get("presentedForm", []):
        if form.get("contentType", "").startswith("application/pdf") and form.get("data"):
            return base64.b64decode(form["data"])
    return None


def has_pdf(bundle: Json) -> bool:
    renderer = _renderer()
    return (renderer is not None and hasattr(renderer, "render_pdf")) or any(
        f.get("contentType", "").startswith("application/pdf")
        for f in _report(bundle).get("presentedForm", []))
