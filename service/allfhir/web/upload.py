"""Upload: a classifier file and its companions, converted and stored by the same code as the
REST `$convert` (api/conversion.py), whole or not at all."""

from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from ..api import audit, conversion, metrics
from ..errors import InputError, Problem, http_status
from .blueprint import bp, signed_in, store

FIELDS = ("patient", "sample", "specimen", "order")


def _grouped(problems: list[Problem], names: list[str]) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Problems by the uploaded file they name, and those naming none of them."""
    by_file: dict[str, list[Problem]] = {n: [] for n in names}
    other = []
    for p in problems:
        (by_file[p.file] if p.file in by_file else other).append(p)
    return by_file, other


@bp.route("/upload", methods=["GET", "POST"])
@signed_in("lab")
def upload() -> str | tuple[str, int]:
    values = {k: request.form.get(k, "").strip() for k in FIELDS}
    if request.method == "GET":
        return render_template("upload.html", values=values, detected=[], stored=None,
                               by_file={}, other=[])
    audit.note("operation")
    parts = [f for f in request.files.getlist("files") if f.filename]
    up = conversion.upload("multipart/form-data", request.get_data(), parts)
    detected = conversion.formats(up)
    try:
        # a malformed field (an order without a value...) is shown beside the form, as a bad row is
        opts = conversion.options({k: v for k, v in values.items() if v},
                                  current_app.extensions["allfhir.id_systems"])
        sub = conversion.submission(up, opts, g.client, None)
        stored = conversion.run(store(), up, opts, sub, whole=True)
    except InputError as err:
        by_file, other = _grouped(err.problems, [name for name, _, _ in detected])
        return render_template("upload.html", values=values, detected=detected, stored=None,
                               by_file=by_file, other=other), http_status(err)
    metrics.converted(stored)
    audit.touched(*audit.report_references(stored.reports))
    links = [(b["entry"][0]["resource"],
              url_for("web.report", rid=b["entry"][0]["resource"]["id"])) for b in stored.reports]
    return render_template("upload.html", values={k: "" for k in FIELDS}, detected=detected,
                           stored=stored, links=links, by_file={}, other=[])
