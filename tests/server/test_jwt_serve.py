"""Bearer JWTs against a real `allfhir serve`: its workers verify tokens against the configured
JWKS file, with iss and aud from the environment, as the Flask test client's app does."""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from tests.api.test_jwt import AUDIENCE, EC, FORGER, GENERIC, ISSUER, RSA, jwks
from tests.conftest import fresh_database
from tests.server.live import running_server


def test_tokens_over_http(tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks(RSA, EC)))
    settings = {"ALLFHIR_JWT_JWKS": str(keys), "ALLFHIR_JWT_ISSUER": ISSUER,
                "ALLFHIR_JWT_AUDIENCE": AUDIENCE}
    with fresh_database("sqlite", tmp_path, migrate=False) as url, \
            running_server(url, settings) as (srv, _):
        def bearer(token: str, **extra: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}", **extra}

        converted = requests.post(f"{srv.url}/fhir/$convert", data=GENERIC.read_bytes(), timeout=60,
                                  headers=bearer(RSA.token("system/*.write"),
                                                 **{"Content-Type": "application/json"}))
        assert converted.status_code == 200
        report = converted.json()["parameter"][0]["resource"]["entry"][0]["resource"]
        path = f"{srv.url}/fhir/DiagnosticReport/{report['id']}"
        read = requests.get(path, headers=bearer(EC.token("system/DiagnosticReport.rs")), timeout=10)
        assert (read.status_code, read.json()["id"]) == (200, report["id"])

        def refused(token: str) -> tuple[int, str, str]:
            r = requests.get(path, headers=bearer(token), timeout=10)
            issue = r.json()["issue"][0]
            return r.status_code, issue["code"], issue["diagnostics"]

        now = int(time.time())
        assert refused(RSA.token(exp=now - 600, iat=now - 900)) == (
            401, "login", "the token has expired (exp)")
        assert refused(FORGER.token()) == (401, "login", "the token's signature does not verify")
        assert refused(RSA.token("system/Observation.rs")) == (
            403, "forbidden", "the token 'lims' lacks the scope for this request: needs "
            "system/DiagnosticReport.r")
        # the API key of the server fixture still works beside the tokens
        assert requests.get(path, headers=srv.headers(), timeout=10).status_code == 200
