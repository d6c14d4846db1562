"""OAuth2 bearer JWTs: real keys made here (cryptography), a JWKS file and a JWKS served over HTTP
by a real loopback server; every refusal an OperationOutcome with its exact status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys, audit
from tests.conftest import DATA

ISSUER = "https://auth.lab.example/realms/lab"
AUDIENCE = "https://allfhir.lab.example/fhir"
GENERIC = DATA / "classifiers" / "generic-single.json"


@dataclass
class Signer:
    """A private key and the kid under which its public half is (or is not) published."""

    key: Any
    kid: str
    alg: str

    def jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[self.alg].to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.alg}

    def token(self, scope: str = "system/*.read", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "lims", "client_id": "lims", "iat": now,
                "exp": now + 300, "scope": scope, "jti": f"t{now}", **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.key, algorithm=self.alg, headers={"kid": self.kid})


RSA = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1", "RS384")
EC = Signer(ec.generate_private_key(ec.SECP256R1()), "ec-1", "ES256")
# same kid as the published RSA key, other key material: a forged signature
FORGER = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1", "RS384")
STRANGER = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-9", "RS384")


def jwks(*signers: Signer) -> dict:
    return {"keys": [s.jwk() for s in signers]}


@dataclass
class JwksServer:
    """An authorisation server's JWKS endpoint on 127.0.0.1, counting how often it is fetched."""

    document: dict
    fetches: int = 0
    httpd: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class App:
    app: Flask
    client: FlaskClient
    revoked_key: str

    def get(self, path: str, token: str | None = None, **headers: str):
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers={**auth, **headers})


def make_app(database_url: str, source: str | None) -> App:
    settings = Settings(database_url=database_url, jwt_jwks=source, jwt_issuer=ISSUER,
                        jwt_audience=AUDIENCE)
    app = create_app(settings)
    store = app.extensions["allfhir.store"]
    revoked = apikeys.create(store, "old-lims", ["system/*.cruds"])
    apikeys.revoke(store, "old-lims")
    return App(app, app.test_client(), revoked)


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(RSA, EC)))
    return path


@pytest.fixture
def served() -> Iterator[JwksServer]:
    server = JwksServer(jwks(RSA, EC))
    yield server
    server.close()


@pytest.fixture(params=["file", "url"])
def api(request: pytest.FixtureRequest, database_url: str, jwks_file: Path,
        served: JwksServer) -> Iterator[App]:
    a = make_app(database_url, str(jwks_file) if request.param == "file" else served.url)
    yield a
    a.app.extensions["allfhir.store"].dispose()


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    """A JWT signed by hand (PyJWT rightly refuses to use a public key as an HMAC secret)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signed = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signed}.{b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def outcome(response) -> tuple[int, str, str]:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    assert response.content_type == "application/fhir+json; charset=utf-8"
    return response.status_code, body["issue"][0]["code"], body["issue"][0]["diagnostics"]


def convert(a: App, token: str):
    return a.client.post("/fhir/$convert", data=GENERIC.read_bytes(),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def test_valid_tokens_with_v1_and_v2_scopes_convert_and_read(api: App) -> None:
    written = convert(api, RSA.token("system/*.read system/*.write"))  # SMART v1
    assert written.status_code == 200
    report = written.get_json()["parameter"][0]["resource"]["entry"][0]["resource"]
    path = f"/fhir/DiagnosticReport/{report['id']}"
    v2 = api.get(path, EC.token("system/DiagnosticReport.rs"))  # SMART v2, ES256
    assert (v2.status_code, v2.get_json()["id"], v2.headers["ETag"]) == (200, report["id"], 'W/"1"')
    assert convert(api, EC.token("system/*.cruds")).status_code == 200  # v2 writer (resubmission)
    # the token's client is the audited agent
    agents = [(e["subtype"][0]["code"], e["agent"][0]["who"]["display"], e["outcome"])
              for e in audit.recent(api.app.extensions["allfhir.store"])]
    assert agents[:3] == [("operation", "lims", "0"), ("read", "lims", "0"), ("operation", "lims", "0")]


def test_refused_tokens_are_401_with_the_reason(api: App) -> None:
    path = "/fhir/DiagnosticReport/nope"
    now = int(time.time())
    cases = {
        "the token has expired (exp)": RSA.token(exp=now - 600, iat=now - 900),
        "the token is not valid yet (nbf)": RSA.token(nbf=now + 600),
        "the token was not issued by the configured issuer (iss)": RSA.token(iss="https://evil.example"),
        "the token is not meant for this server (aud)": RSA.token(aud="https://other.example/fhir"),
        "the token's signature does not verify": FORGER.token(),
        'the token is not valid: Token is missing the "exp" claim': RSA.token(exp=None),
    }
    for message, token in cases.items():
        refused = api.get(path, token)
        assert outcome(refused) == (401, "login", message)
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="allfhir"'
    unknown = outcome(api.get(path, STRANGER.token()))
    assert unknown[:2] == (401, "login")
    assert unknown[2] in ("the token is not valid: no key in the JWKS matches its kid 'rsa-9'",
                          'the token is not valid: Unable to find a signing key that matches: "rsa-9"')
    # an HMAC token "signed" with the public key must not pass (algorithm confusion)
    public_pem = RSA.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    assert outcome(api.get(path, hs256({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, {
        "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "scope": "system/*.read"}, public_pem))) == (
        401, "login", "the token is not valid: The specified alg value is not allowed")
    assert outcome(api.get(path, "not.a.token")) == (
        401, "login", "the token is not valid: Invalid header padding")


def test_a_scope_the_token_lacks_is_403_also_for_included_resources(api: App) -> None:
    assert convert(api, RSA.token("system/*.write")).status_code == 200
    reader = RSA.token("system/DiagnosticReport.rs")
    assert outcome(api.get("/fhir/Observation/x", reader)) == (
        403, "forbidden", "the token 'lims' lacks the scope for this request: needs system/Observation.r")
    assert outcome(convert(api, reader))[:2] == (403, "forbidden")
    included = api.get("/fhir/DiagnosticReport?_include=DiagnosticReport:result", reader)
    assert outcome(included) == (403, "forbidden", "the token 'lims' lacks the scope for the included "
                                 "resources: needs system/Observation.r")
    assert api.get("/fhir/DiagnosticReport?_include=DiagnosticReport:result",
                   RSA.token("system/DiagnosticReport.rs system/Observation.rs")).status_code == 200
    # patient/ and user/ scopes are not a backend service's
    assert outcome(api.get("/fhir/DiagnosticReport/x", RSA.token("patient/*.read user/*.cruds")))[:2] == (
        403, "forbidden")


def test_no_credentials_and_revoked_api_key_are_401(api: App) -> None:
    assert outcome(api.get("/fhir/DiagnosticReport/x")) == (
        401, "login", "credentials required: send an API key as 'Authorization: Bearer <key>' or "
        "'X-API-Key: <key>'")
    assert outcome(api.get("/fhir/DiagnosticReport/x", api.revoked_key)) == (
        401, "login", "the API key is unknown or revoked")
    assert outcome(api.get("/fhir/DiagnosticReport/x", **{"X-API-Key": api.revoked_key})) == (
        401, "login", "the API key is unknown or revoked")
    assert api.client.get("/fhir/metadata").status_code == 200  # still open


def test_the_jwks_url_is_fetched_once_and_cached(database_url: str, served: JwksServer) -> None:
    a = make_app(database_url, served.url)
    try:
        for signer in (RSA, EC, RSA):
            assert a.get("/fhir/DiagnosticReport/nope", signer.token()).status_code == 404
        assert served.fetches == 1
    finally:
        a.app.extensions["allfhir.store"].dispose()


def test_an_unreachable_jwks_url_is_503_not_a_refusal(database_url: str, served: JwksServer) -> None:
    url = served.url
    served.close()  # the authorisation server is down: we cannot tell a good token from a bad one
    a = make_app(database_url, url)
    try:
        status, code, message = outcome(a.get("/fhir/DiagnosticReport/nope", RSA.token()))
        assert (status, code) == (503, "transient")
        assert message.startswith("the JWKS of the authorisation server cannot be fetched")
    finally:
        a.app.extensions["allfhir.store"].dispose()


def test_a_rotated_jwks_file_is_read_again(database_url: str, jwks_file: Path) -> None:
    a = make_app(database_url, str(jwks_file))
    try:
        assert a.get("/fhir/DiagnosticReport/nope", STRANGER.token()).status_code == 401
        jwks_file.write_text(json.dumps(jwks(RSA, EC, STRANGER)))
        assert a.get("/fhir/DiagnosticReport/nope", STRANGER.token()).status_code == 404
    finally:
        a.app.extensions["allfhir.store"].dispose()


def test_an_unreadable_jwks_file_is_503(database_url: str, jwks_file: Path) -> None:
    a = make_app(database_url, str(jwks_file))
    try:
        jwks_file.write_text("{not json")
        assert outcome(a.get("/fhir/DiagnosticReport/nope", RSA.token())) == (
            503, "transient", "the JWKS file (ALLFHIR_JWT_JWKS) cannot be read, so tokens cannot be "
            "verified now: JSONDecodeError")
        jwks_file.unlink()
        assert outcome(a.get("/fhir/DiagnosticReport/nope", RSA.token()))[:2] == (503, "transient")
    finally:
        a.app.extensions["allfhir.store"].dispose()


def test_without_a_jwks_tokens_are_refused_and_issuer_audience_are_required(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    try:
        assert outcome(app.test_client().get("/fhir/DiagnosticReport/x", headers={
            "Authorization": f"Bearer {RSA.token()}"})) == (
            401, "login", "bearer tokens (JWT) are not accepted here: no JWKS is configured "
            "(ALLFHIR_JWT_JWKS); use an API key")
    finally:
        app.extensions["allfhir.store"].dispose()
    with pytest.raises(ValidationError, match="ALLFHIR_JWT_JWKS needs ALLFHIR_JWT_ISSUER and "
                                              "ALLFHIR_JWT_AUDIENCE"):
        Settings(database_url=database_url, jwt_jwks="jwks.json", jwt_issuer=ISSUER)
