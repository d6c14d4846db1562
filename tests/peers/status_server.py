"""Test peer: a small real HTTP server on loopback for the receiver failures the FHIR engine
peer (medplum/) cannot be made to produce: slow answers, 500, 429 with Retry-After, 422 with an
OperationOutcome, 401; and an OAuth2 token endpoint (client-credentials grant).

    python tests/peers/status_server.py [--port 0] [--client-id ID --client-secret S]
                                        [--api-key K] [--delay SECONDS]

It prints `listening on 127.0.0.1:<port>` once it accepts connections. Control (JSON):
- `POST /_script` [{"status": 500, "headers": {...}, "body": {...}, "delay": 2.0}, ...]: the next
  FHIR requests get these answers, in order; `delay` waits that long before answering;
- `GET /_log`: every FHIR request so far (method, path, Authorization / X-API-Key, body);
- `GET /_tokens`: how many tokens the token endpoint issued.
With nothing scripted, a transaction is answered with a transaction-response of one `201` per
entry, and a message with a response message of code ok, as a FHIR server would.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Json = dict[str, Any]


class State:
    def __init__(self, client_id: str | None, client_secret: str | None, api_key: str | None,
                 delay: float) -> None:
        self.lock = threading.Lock()
        self.delay = delay
        self.script: list[Json] = []
        self.log: list[Json] = []
        self.tokens: set[str] = set()
        self.client = (client_id, client_secret) if client_id else None
        self.api_key = api_key


def success(body: Any) -> Json:
    if isinstance(body, dict) and body.get("type") == "message":
        header = body["entry"][0]["resource"]
        return {"resourceType": "Bundle", "type": "message", "entry": [{
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {"resourceType": "MessageHeader", "id": str(uuid.uuid4()),
                         "eventCoding": header.get("eventCoding"),
                         "source": {"endpoint": "http://127.0.0.1/status-server"},
                         "response": {"identifier": header["id"], "code": "ok"}}}]}
    entries = body.get("entry", []) if isinstance(body, dict) else []
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created",
                      "location": f"{e['request']['url']}/{uuid.uuid4()}/_history/1"}}
        for e in entries]}


def outcome(text: str, code: str = "processing") -> Json:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:  # quiet: the tests read /_log
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        with self.state.lock:
            if self.path == "/_log":
                return self._send(200, self.state.log)
            if self.path == "/_tokens":
                return self._send(200, {"issued": len(self.state.tokens)})
        self._send(404, outcome("not here", "not-found"))

    def do_POST(self) -> None:
        raw = self._body()
        if self.path == "/_script":
            with self.state.lock:
                self.state.script.extend(json.loads(raw))
            return self._send(204, None)
        if self.path == "/token":
            return self._token(raw)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.state.lock:
            self.state.log.append({"method": "POST", "path": self.path, "body": body,
                                   "authorization": self.headers.get("Authorization"),
                                   "x-api-key": self.headers.get("X-API-Key")})
            answer = self.state.script.pop(0) if self.state.script else None
        refused = self._unauthorised()
        if refused:
            return self._send(401, outcome(refused, "login"))
        if answer is None:
            time.sleep(self.state.delay)
            return self._send(200, success(body))
        if answer.get("delay"):
            time.sleep(float(answer["delay"]))
        status = int(answer.get("status", 200))
        self._send(status, answer.get("body", success(body) if status < 300 else None),
                   answer.get("headers"))

    def _unauthorised(self) -> str | None:
        if self.state.api_key and self.headers.get("X-API-Key") != self.state.api_key:
            return "API key missing or wrong"
        if self.state.client:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.state.tokens:
                return "bearer token missing or unknown"
        return None

    def _token(self, raw: bytes) -> None:
        form = dict(p.split("=", 1) for p in raw.decode().split("&") if "=" in p)
        auth = self.headers.get("Authorization", "")
        given = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
        expected = ":".join(self.state.client) if self.state.client else None
        if form.get("grant_type") != "client_credentials" or given != expected:
            body = json.dumps({"error": "invalid_client",
                               "error_description": "unknown client or wrong secret"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        token = f"tok-{uuid.uuid4().hex}"
        with self.state.lock:
            self.state.tokens.add(token)
        body = json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--api-key")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds every unscripted answer waits (lets workers overlap)")
    args = parser.parse_args()
    Handler.state = State(args.client_id, args.client_secret, args.api_key, args.delay)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
