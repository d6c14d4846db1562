"""The delivery outbox: one `deliver` job per (stored report version, matching Endpoint), written
by `queue` inside the transaction that stores the report (store.submissions.save's `after`), so
a report is stored exactly when its deliveries are queued, and neither without the other.

The job key names the delivery (`deliver:DiagnosticReport/<id>:<version>:<endpoint id>`): the same
report version is queued once per Endpoint however often it is resubmitted, and the key's
prefix finds a report's deliveries (`jobs.of_kind(store, KIND, prefix(report_id))`).
"""

from __future__ import annotations

from typing import Any

from ..store import Store, Transaction, endpoints, jobs
from .endpoints import target

Json = dict[str, Any]
KIND = "deliver"


def prefix(report_id: str) -> str:
    return f"{KIND}:DiagnosticReport/{report_id}:"


def key(report_id: str, version: str, endpoint_id: str) -> str:
    return f"{prefix(report_id)}{version}:{endpoint_id}"


def queue(store: Store, conn: Transaction, reports: list[Json]) -> None:
    """store.submissions.AfterWrite: queue the deliveries of newly stored reports."""
    destinations = endpoints.active(store, conn)
    if not destinations:
        return
    for bundle in reports:
        report = bundle["entry"][0]["resource"]
        version = report.get("meta", {}).get("versionId", "1")
        for resource in destinations:
            if not _wanted(resource, bundle):
                continue
            jobs.enqueue(conn, KIND, {"endpoint": resource["id"],
                                      "report": f"DiagnosticReport/{report['id']}",
                                      "version": version, "bundle": bundle},
                         key=key(report["id"], version, resource["id"]))


def _wanted(resource: Json, bundle: Json) -> bool:
    try:
        criteria = target(resource, None).filter
    except ValueError:
        # a filter this version cannot read (it was checked when the Endpoint was made): the
        # report goes there rather than being silently held back, and storing it goes on
        return True
    return criteria is None or criteria.matches(bundle)
