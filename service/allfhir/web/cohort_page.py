"""The cohort view: every stored report's call, counted, as server-made SVG charts."""

from __future__ import annotations

import statistics

from flask import render_template, request

from ..api import audit
from . import charts, cohort, reports
from .blueprint import bp, signed_in, store


@bp.get("/cohort")
@signed_in()
def cohort_view() -> str:
    audit.note("search-type")
    audit.touched(query=True)
    everything = reports.every(store())
    classifier = request.args.get("classifier", "")
    month = request.args.get("month", "")
    chosen = cohort.select(everything, classifier, month)
    probabilities = [s.call.probability for s in chosen if s.call and s.call.probability is not None]
    return render_template(
        "cohort.html", classifier=classifier, month=month, total=cohort.group("selection", chosen),
        classifiers=sorted({s.classifier for s in everything}),
        months=sorted({cohort.month(s) for s in everything}),
        median=statistics.median(probabilities) if probabilities else None,
        subtype_chart=charts.horizontal("subtypes", "Reports per subtype call",
                                        cohort.subtype_bars(chosen)),
        probability_chart=charts.columns(
            "probabilities", "Call probabilities (reports per probability band)",
            cohort.probability_bars(chosen), "probability of the leading call (band start)"),
        month_chart=charts.columns("months", "Reports per month", cohort.month_bars(chosen), "month"),
        per_classifier=cohort.by(chosen, "classifier"), per_month=cohort.by(chosen, "month"))
