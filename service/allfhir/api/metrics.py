"""Prometheus metrics at /metrics: requests by route and status, latency, conversions, refusals.

Each app has its own registry (several apps in one process, as in the tests, do not collide),
and each gunicorn worker counts its own requests: a scrape reads the worker that answers it.
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) would sum the workers; it is
not used, so run one worker per replica, or aggregate per instance, when exact totals matter.

Labels are route templates (`/fhir/<rtype>/<rid>`), never paths or query strings: bounded
cardinality, and no identifiers in the metrics.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from ..store.submissions import Stored

bp = Blueprint("metrics", __name__)
# request latency buckets (seconds): the targets are 10 ms (read) and 50 ms ($convert) at p99
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("allfhir_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("allfhir_http_request_duration_seconds",
                                 "Time to answer a request", ["method", "route"],
                                 buckets=BUCKETS, registry=self.registry)
        self.conversions = Counter("allfhir_conversions", "Report Bundles $convert answered with",
                                   ["stored"], registry=self.registry)
        self.refusals = Counter("allfhir_refusals", "What $convert refused: rows (samples) in an "
                                "outcome part, and whole requests answered 422", ["kind"],
                                registry=self.registry)


def metrics() -> Metrics:
    return current_app.extensions["allfhir.metrics"]


def converted(stored: Stored) -> None:
    """The $convert view reports what it answered (a resubmission stores nothing new)."""
    m = metrics()
    m.conversions.labels(stored="new" if stored.created else "resubmission").inc(len(stored.reports))
    rows = [i for i in (stored.outcome or {}).get("issue", []) if i.get("severity") == "error"]
    if rows:
        m.refusals.labels(kind="row").inc(len(rows))


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus metrics of this worker (no credentials)."""
    return Response(generate_latest(metrics().registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.extensions["allfhir.metrics"] = Metrics()
    app.register_blueprint(bp)

    @app.before_request
    def _clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        m = app.extensions["allfhir.metrics"]
        route = request.url_rule.rule if request.url_rule else "unmatched"
        m.requests.labels(request.method, route, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            m.latency.labels(request.method, route).observe(time.perf_counter() - started)
        if request.endpoint == "fhir.convert" and response.status_code == 422:
            m.refusals.labels(kind="request").inc()
        return response
