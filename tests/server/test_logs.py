"""The service's log: JSON lines with the request id (X-Request-ID in and out), and no PHI: a
conversion's lines hold no patient reference, sample name, file name or file content."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import requests

from allfhir.api import logs
from tests.conftest import DATA, fresh_database
from tests.server.live import running_server

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"
PATIENT = "Patient/MRN-PHI-77121"


def test_a_conversions_log_lines_carry_the_request_id_and_no_phi(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    content = ALLSORTS.read_text()
    with fresh_database("sqlite", tmp_path, migrate=False) as url, \
            running_server(url, log=log) as (srv, _):
        converted = requests.post(f"{srv.url}/fhir/$convert", data=content.encode(), timeout=60,
                                  params={"format": "allsorts", "patient": PATIENT},
                                  headers=srv.headers(**{"Content-Type": "text/csv",
                                                         "X-Request-ID": "lims-7f3a-0001"}))
        assert (converted.status_code, converted.headers["X-Request-ID"]) == (200, "lims-7f3a-0001")
        report = converted.json()["parameter"][0]["resource"]["entry"][0]["resource"]
        assert report["subject"] == {"reference": PATIENT}
        # refused input: the 422 names the file and line to the client, the log does not
        refused = requests.post(f"{srv.url}/fhir/$convert", timeout=60, headers=srv.headers(),
                                files={"file": ("SJBALL043684-upload.csv", b"sample,x\nSJALL-PHI,1\n")})
        assert refused.status_code == 422
        # a request id that is not an id (free text could carry a name) is replaced by ours
        read = requests.get(f"{srv.url}/fhir/DiagnosticReport/{report['id']}", timeout=10,
                            headers=srv.headers(**{"X-Request-ID": "John Smith, MRN 4711"}))
        assert read.status_code == 200
        ours = read.headers["X-Request-ID"]
        assert len(ours) == 32 and int(ours, 16) >= 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    requests_logged = [line for line in lines if line["message"] == "request"]
    assert [(r["request_id"], r["method"], r["route"], r["status"], r["client"])
            for r in requests_logged if r["route"] != "/health"] == [
        ("lims-7f3a-0001", "POST", "/fhir/$convert", 200, "lims"),
        (requests_logged[-2]["request_id"], "POST", "/fhir/$convert", 422, "lims"),
        (ours, "GET", "/fhir/<rtype>/<rid>", 200, "lims"),
    ]
    assert all(r["level"] == "INFO" and r["timestamp"] and isinstance(r["ms"], float)
               for r in requests_logged)
    text = log.read_text()
    sample_names = [row.split(",")[0] for row in content.splitlines()[1:]]
    assert "SJBALL043684" in sample_names
    for phi in (PATIENT, "MRN-PHI-77121", *sample_names, "SJALL-PHI", "SJBALL043684-upload.csv",
                content.splitlines()[1], "John Smith", "MRN 4711"):
        assert phi not in text, phi


def test_a_traceback_is_logged_as_frames_without_the_exception_message() -> None:
    out = io.StringIO()
    logger = logging.getLogger("allfhir.test-logs")
    logger.addHandler(logs.handler(out))
    try:
        try:
            raise KeyError("sample SJBALL043684 of Patient/MRN-PHI-77121")
        except KeyError:
            logger.exception("internal error")
    finally:
        logger.handlers.clear()
    line = json.loads(out.getvalue())
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "ERROR", "allfhir.test-logs", "internal error", None)
    assert line["exc_info"].startswith("KeyError at test_logs.py:")
    assert line["exc_info"].endswith("test_a_traceback_is_logged_as_frames_without_the_exception_message")
    assert "SJBALL043684" not in out.getvalue() and "MRN-PHI" not in out.getvalue()
