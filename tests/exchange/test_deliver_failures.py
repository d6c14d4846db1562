"""What a delivery does when the receiver is down, slow, overloaded or refuses: against a real
HTTP server process on loopback (tests/peers/status_server.py) and a port nobody listens on."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from allfhir.exchange import auth
from allfhir.exchange.receiver import retry_after
from allfhir.store import jobs, schema
from tests.api.conftest import Api
from tests.api.test_fhir_rest import GENERIC, reports
from tests.exchange.conftest import (
    StartServer,
    StatusServer,
    add_endpoint,
    due_now,
    free_port,
    run_due,
)
from tests.exchange.test_deliver_medplum import convert_example, status_of


def convert_one(api: Api) -> str:
    r = api.client.post("/fhir/$convert", data=GENERIC.read_bytes(), content_type="application/json",
                        headers=api.auth("writer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    (bundle,) = reports(r.get_json())
    return bundle["entry"][0]["resource"]["id"]


def the_delivery(api: Api) -> jobs.Job:
    (job,) = jobs.of_kind(api.store, "deliver")
    return job


def waited(job: jobs.Job) -> float:
    return (job.run_after - job.updated).total_seconds()


def refused_then_delivered(api: Api, report: str, error: str) -> None:
    """The first attempt leaves the delivery queued with `error`; the retry, made due at once,
    delivers the report."""
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.error) == ("queued", error)
    due_now(api)
    assert run_due(api) == 1
    assert status_of(api, report)[0]["state"] == "delivered"


def test_a_receiver_that_is_down_gets_the_report_when_it_is_back(api: Api,
                                                                 status_servers: StartServer) -> None:
    port = free_port()
    add_endpoint(api, f"http://127.0.0.1:{port}/fhir")
    report = convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.attempts) == ("queued", 1)
    assert job.error.startswith(f"cannot connect to http://127.0.0.1:{port}/fhir: ")
    assert "Connection refused" in job.error
    assert 0 <= waited(job) <= 2.0  # first backoff: up to 2 s, with jitter
    assert run_due(api) == 0  # not due yet
    server = status_servers("--port", str(port))
    due_now(api)
    assert run_due(api) == 1
    (state,) = status_of(api, report)
    assert (state["state"], state["attempts"], state["created"]) == ("delivered", 2, 5)
    (request,) = server.log()
    assert request["path"] == "/fhir" and request["body"]["type"] == "transaction"


def test_a_slow_receiver_times_out_and_is_sent_again(api: Api, status_server: StatusServer) -> None:
    add_endpoint(api, status_server.url, read_timeout=0.5)
    status_server.script({"delay": 3})
    refused_then_delivered(api, convert_one(api), f"no answer from {status_server.url} within "
                           "the timeout (ReadTimeout)")
    first, second = (r["body"] for r in status_server.log())
    assert first["entry"][:-1] == second["entry"][:-1]  # the same conditional creates
    provenance = [b["entry"][-1] for b in (first, second)]
    assert [p["request"] for p in provenance] == [provenance[0]["request"]] * 2  # the same _source
    assert provenance[0]["request"]["ifNoneExist"].startswith("_source=urn:uuid:")


def test_500_is_retried_with_backoff(api: Api, status_server: StatusServer) -> None:
    add_endpoint(api, status_server.url)
    status_server.script({"status": 500, "body": {"resourceType": "OperationOutcome", "issue": [
        {"severity": "fatal", "code": "exception", "diagnostics": "database unavailable"}]}})
    convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.error) == ("queued", f"HTTP 500 from {status_server.url}: database unavailable")
    assert 0 <= waited(job) <= 2.0
    due_now(api)
    assert run_due(api) == 1
    assert the_delivery(api).state == "done"


def test_429_waits_as_long_as_retry_after_says(api: Api, status_server: StatusServer) -> None:
    add_endpoint(api, status_server.url)
    status_server.script({"status": 429, "headers": {"Retry-After": "7"}})
    convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.error) == ("queued", f"HTTP 429 from {status_server.url}: Too Many Requests")
    assert 6.9 <= waited(job) <= 7.0
    assert run_due(api) == 0


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after("Tue, 01 Dec 2026 10:02:30 GMT", now) == 150.0
    assert retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now) == 0.0
    assert retry_after("120", now) == 120.0
    assert retry_after("99999", now) == 3600.0  # not believed beyond an hour
    assert retry_after("soon", now) is None and retry_after(None, now) is None


OUTCOME = {"resourceType": "OperationOutcome", "issue": [{
    "severity": "error", "code": "processing",
    "diagnostics": "Observation.subject: patient MRN-17 is not known at this hospital"}]}


def test_422_with_an_outcome_is_a_dead_letter_until_retried(api: Api, status_server: StatusServer) -> None:
    endpoint = add_endpoint(api, status_server.url)
    status_server.script({"status": 422, "body": OUTCOME})
    report = convert_one(api)
    assert run_due(api) == 1
    (state,) = status_of(api, report)
    assert state == {
        "endpoint": {"reference": f"Endpoint/{endpoint}"}, "version": "1", "state": "dead-letter",
        "attempts": 1, "updated": state["updated"], "response": OUTCOME,
        "lastError": f"HTTP 422 from {status_server.url}: Observation.subject: patient MRN-17 is not "
                     "known at this hospital"}
    assert run_due(api) == 0  # a dead letter is not sent again by itself
    # requeued by an operator (a scope naming Endpoint), then delivered
    denied = api.client.post(f"/fhir/DiagnosticReport/{report}/$retry", headers=api.auth("writer"))
    assert denied.status_code == 403
    assert "needs system/Endpoint.u by name" in denied.get_json()["issue"][0]["diagnostics"]
    r = api.client.post(f"/fhir/DiagnosticReport/{report}/$retry", headers=api.auth("admin"))
    assert r.status_code == 200
    parts = r.get_json()["parameter"][0]["part"]
    assert [p["valueCode"] for p in parts if p["name"] == "state"] == ["queued"]
    assert run_due(api) == 1
    assert status_of(api, report)[0]["state"] == "delivered"
    # delivered: $retry sends nothing again
    api.client.post(f"/fhir/DiagnosticReport/{report}/$retry", headers=api.auth("admin"))
    assert run_due(api) == 0
    assert len(status_server.log()) == 2


def test_4xx_without_an_outcome_keeps_the_status_line(api: Api, status_server: StatusServer) -> None:
    add_endpoint(api, status_server.url)
    status_server.script({"status": 404})
    convert_one(api)
    run_due(api)
    job = the_delivery(api)
    assert (job.state, job.error, job.result) == (
        "failed", f"HTTP 404 from {status_server.url}: Not Found", {"status": 404, "response": "Not Found"})


def test_status_of_an_unknown_report_is_404(api: Api) -> None:
    r = api.client.get("/fhir/DiagnosticReport/no-such-report/$delivery-status", headers=api.auth("reader"))
    assert r.status_code == 404
    assert r.get_json()["issue"][0]["diagnostics"] == "DiagnosticReport/no-such-report is not known"


def test_an_api_key_goes_in_its_header(api: Api, status_servers: StartServer) -> None:
    server = status_servers("--api-key", "k-123")
    add_endpoint(api, server.url, auth="api-key", secret="k-123")
    convert_one(api)
    assert run_due(api) == 1
    assert the_delivery(api).state == "done"
    assert [r["x-api-key"] for r in server.log()] == ["k-123"]


def test_a_wrong_api_key_is_a_dead_letter(api: Api, status_servers: StartServer) -> None:
    server = status_servers("--api-key", "k-123")
    add_endpoint(api, server.url, auth="api-key", secret="wrong", api_key_header="X-API-Key")
    convert_one(api)
    run_due(api)
    job = the_delivery(api)
    assert (job.state, job.error) == ("failed", f"HTTP 401 from {server.url}: API key missing or wrong")


def oauth_receiver(api: Api, status_servers: StartServer, secret: str,
                   **settings: str) -> tuple[StatusServer, str]:
    """A receiver that issues tokens to client 'allfhir-lab' with secret 's3cret', and an
    Endpoint to it that authenticates with `secret`; -> (the receiver, its token URL)."""
    server = status_servers("--client-id", "allfhir-lab", "--client-secret", "s3cret")
    token_url = server.url.removesuffix("/fhir") + "/token"
    add_endpoint(api, server.url, auth="oauth2-client-credentials", secret=secret,
                 token_url=token_url, client_id="allfhir-lab", **settings)
    return server, token_url


def test_oauth2_client_credentials_token_is_fetched_once_and_reused(
        api: Api, status_servers: StartServer) -> None:
    server, _ = oauth_receiver(api, status_servers, "s3cret", scope="system/*.write")
    convert_example(api)
    assert run_due(api) == 3
    assert [j.state for j in jobs.of_kind(api.store, "deliver")] == ["done"] * 3
    assert server.tokens() == 1
    (token,) = {r["authorization"] for r in server.log()}
    assert token.startswith("Bearer tok-")


def test_oauth2_with_a_wrong_secret_is_a_dead_letter_saying_so(
        api: Api, status_servers: StartServer) -> None:
    server, token_url = oauth_receiver(api, status_servers, "guess")
    convert_one(api)
    run_due(api)
    job = the_delivery(api)
    assert (job.state, job.error) == ("failed", f"the token endpoint {token_url} refused client "
                                      "'allfhir-lab': invalid_client: unknown client or wrong secret")
    assert server.log() == []  # nothing was sent without a token


@pytest.mark.parametrize("status", ["suspended", "off"])
def test_an_endpoint_that_is_not_active_holds_its_deliveries(api: Api, status_server: StatusServer,
                                                             status: str) -> None:
    endpoint = add_endpoint(api, status_server.url)
    convert_one(api)
    with api.store.transaction() as conn:
        row = conn.execute(schema.endpoints.select()).one()
        conn.execute(schema.endpoints.update().values(resource={**row.resource, "status": status}))
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.error) == ("queued", f"Endpoint/{endpoint} is {status}: delivery held")
    assert 299 <= waited(job) <= 300
    assert status_server.log() == []


def test_a_removed_endpoint_fails_its_deliveries(api: Api, status_server: StatusServer) -> None:
    endpoint = add_endpoint(api, status_server.url)
    convert_one(api)
    assert api.client.delete(f"/fhir/Endpoint/{endpoint}", headers=api.auth("admin")).status_code == 204
    run_due(api)
    job = the_delivery(api)
    assert (job.state, job.error) == ("failed", f"Endpoint/{endpoint} was removed")


def test_a_token_the_receiver_rejects_is_forgotten_and_a_new_one_fetched(
        api: Api, status_servers: StartServer) -> None:
    server, token_url = oauth_receiver(api, status_servers, "s3cret")
    # a cached token the receiver no longer accepts (revoked there, say)
    auth._tokens[(token_url, "allfhir-lab", "")] = ("tok-revoked", time.monotonic() + 600)
    refused_then_delivered(api, convert_one(api), f"HTTP 401 from {server.url}: bearer token "
                           "missing or unknown")
    assert server.tokens() == 1
    assert [r["authorization"] == "Bearer tok-revoked" for r in server.log()] == [True, False]
