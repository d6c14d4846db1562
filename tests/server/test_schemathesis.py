"""Property-based tests of every route in /openapi.json (schemathesis), through the WSGI app on a
fresh database, bounded to a few hundred examples: no 500, every FHIR error an OperationOutcome,
every response as the document describes it (status, media type, schema, headers)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys, upgrade

EXAMPLES = 10  # per operation: 26 operations, a few hundred requests in all


def make_app() -> tuple[Flask, str, Path]:
    """The app on a migrated SQLite file, and a key that may do everything."""
    folder = Path(tempfile.mkdtemp(prefix="allfhir-schemathesis-"))
    url = f"sqlite:///{folder / 'allfhir.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, max_body_bytes=200_000))
    return app, apikeys.create(app.extensions["allfhir.store"], "fuzz", ["system/*.cruds"]), folder


# Built at import: schemathesis's lazy schema (from_fixture) does not run under pytest 9, and
# parametrize needs the operations when the module is collected.
APP, KEY, FOLDER = make_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    APP.extensions["allfhir.store"].dispose()
    shutil.rmtree(FOLDER, ignore_errors=True)


@schemathesis.check
def fhir_errors_are_operation_outcomes(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                       case: schemathesis.Case) -> bool | None:
    if response.status_code < 400 or not case.path.startswith("/fhir"):
        return None
    body = response.json()
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", (
        f"{response.status_code} without an OperationOutcome: {response.text[:200]}")
    media = {k.lower(): v for k, v in response.headers.items()}.get("content-type")
    assert media == ["application/fhir+json; charset=utf-8"], media
    return True


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_route_answers_as_openapi_json_describes(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"},
                           additional_checks=[fhir_errors_are_operation_outcomes],
                           excluded_checks=[positive_data_acceptance])


def test_what_schemathesis_found_is_a_client_error_now() -> None:
    """Each of these was a 500: '²' passes str.isdigit() but not int(); a bare carriage return
    made the csv module raise inside the tabular reader."""
    client, auth = APP.test_client(), {"Authorization": f"Bearer {KEY}"}

    def issue(response) -> tuple[int, str, str]:
        first = response.get_json()["issue"][0]
        return response.status_code, first["code"], first["diagnostics"]

    assert issue(client.get("/fhir/DiagnosticReport?_count=%C2%B2", headers=auth))[:2] == (400, "value")
    assert issue(client.get("/fhir/DiagnosticReport?_offset=%C2%B2", headers=auth))[:2] == (400, "value")
    assert issue(client.get("/fhir/DiagnosticReport/a/_history/%C2%B2", headers=auth)) == (
        400, "value", "'²' is not a version id")
    converted = client.post("/fhir/$convert?format=fusioncatcher", data="\r4\u0086".encode(),
                            headers={**auth, "Content-Type": "text/csv"})
    assert issue(converted) == (422, "structure", "upload.csv, line 1: a carriage return (\\r) inside "
                                "an unquoted field: end lines with \\n or \\r\\n, or quote the field")
    # an operation's name is not a resource type: GET of a POST-only operation is 405
    wrong = client.get("/fhir/$convert", headers=auth)
    assert (wrong.status_code, set(wrong.headers["Allow"].split(", "))) == (405, {"POST", "OPTIONS"})
    assert issue(client.get("/fhir/metadata?_pretty=yes")) == (
        400, "value", "_pretty 'yes' is not true or false")
