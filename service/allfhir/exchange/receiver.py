"""One POST of FHIR JSON to a receiver, and what its answer means for the delivery:

- 2xx: confirmed; the body (a transaction-response or response message) is returned;
- no connection, a timeout, 429 or 5xx: not confirmed, try again later (`RetryLater`), after the
  receiver's `Retry-After` when it sends one, else exponential backoff with jitter;
- 401 with OAuth2: the token is forgotten and the next attempt fetches a new one;
- any other 4xx: refused (`Refused`, a dead letter) with the receiver's OperationOutcome text.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests

from ..worker import Refused, RetryLater, backoff
from . import auth
from .endpoints import Target

Json = dict[str, Any]
FHIR_JSON = "application/fhir+json"
MAX_WAIT = 3600.0  # a Retry-After further out than this is not believed
_local = threading.local()


def _session() -> requests.Session:
    # one connection pool per worker thread (requests.Session is not thread-safe)
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds the receiver asks us to wait: `Retry-After: 120` or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - (now or datetime.now(UTC))).total_seconds(), 0.0), MAX_WAIT)


def outcome_text(body: Any) -> str | None:
    """The diagnostics (or details.text) of an OperationOutcome's issues, joined."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return None
    texts = [i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code", "")
             for i in body.get("issue", [])]
    return "; ".join(t for t in texts if t) or None


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def post(t: Target, url: str, resource: Json, attempt: int) -> Json:
    """POST `resource` to `url`; the receiver's JSON answer when it confirmed."""
    try:
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **auth.headers(t)}
    except auth.TokenRefused as err:
        raise Refused(str(err), {"error": str(err)}) from None
    except requests.RequestException as err:
        raise RetryLater(backoff(attempt), f"token endpoint {t.token_url} unreachable: "
                         f"{type(err).__name__}") from None
    try:
        response = _session().post(url, data=orjson.dumps(resource), headers=headers,
                                   timeout=t.timeout)
    except requests.Timeout as err:
        raise RetryLater(backoff(attempt), f"no answer from {url} within the timeout "
                         f"({type(err).__name__})") from None
    except requests.ConnectionError as err:
        raise RetryLater(backoff(attempt), f"cannot connect to {url}: {_reason(err)}") from None
    status, body = response.status_code, _body(response)
    if 200 <= status < 300:
        return body if isinstance(body, dict) else {}
    said = outcome_text(body) or response.text[:500].strip() or response.reason or ""
    reason = f"HTTP {status} from {url}" + (f": {said}" if said else "")
    if status == 429 or status >= 500:
        wait = retry_after(response.headers.get("Retry-After"))
        raise RetryLater(backoff(attempt) if wait is None else wait, reason)
    if status == 401 and t.auth == "oauth2-client-credentials":
        auth.forget(t)
        raise RetryLater(backoff(attempt), reason)
    raise Refused(reason, {"status": status, "response": body if isinstance(body, dict) else said})


def _reason(err: requests.ConnectionError) -> str:
    # the innermost cause says it plainly ("Connection refused"); the outer ones repeat the URL
    cause: BaseException = err
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause)
    return text.rsplit("] ", 1)[-1] if "] " in text else text or type(err).__name__
