"""An operation's inputs, from a GET query or a POST Parameters body, checked against the IG's
definition (definitions.py): unknown names, wrong value types and cardinalities are refused
(400, naming the parameter) rather than ignored, since an ignored filter silently widens what a
clinician is shown.

GET follows the reference implementation's query style, which clients of it already use: a list
parameter may repeat or hold comma-separated values (`variants=a,b`), booleans are `true` /
`false`, and `testDateRange` is given as FHIR date search prefixes (`testDateRange=ge2026-01-01
&testDateRange=le2026-12-31`). POST carries one `parameter` per value, `valueString` /
`valueBoolean` / `valueCode` / `valuePeriod` as the definition types them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import RequestError
from ..parameters_body import read_parameters
from .definitions import Operation, Param

Json = dict[str, Any]
IGNORED = ("_format", "_pretty")  # handled by the API's content negotiation
_DATE = re.compile(r"^(ge|le|gt|lt|eq)?([0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)$")


@dataclass(frozen=True, slots=True)
class Period:
    start: str | None  # FHIR date or dateTime, compared as text on the date part
    end: str | None


Inputs = dict[str, list[Any]]


def _refuse(message: str, code: str = "value") -> RequestError:
    return RequestError("malformed", message, code=code)


def from_query(op: Operation, args: Any) -> Inputs:
    out: Inputs = {}
    for name in args:
        if name in IGNORED:
            continue
        param = _known(op, name)
        values = [v for raw in args.getlist(name) for v in
                  (raw.split(",") if param.max == "*" else [raw])]
        if param.type == "Period":
            out[name] = [_period_of_prefixes(values)]
        elif param.type == "boolean":
            out[name] = [_boolean(name, v) for v in values]
        else:
            out[name] = [v.strip() for v in values if v.strip()]
    return _checked(op, out)


def from_body(op: Operation, body: bytes, mimetype: str) -> Inputs:
    doc = read_parameters(body, mimetype)
    out: Inputs = {}
    for part in doc.get("parameter") or []:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise _refuse("every parameter needs a name", "structure")
        param = _known(op, part["name"])
        key = {"string": "valueString", "boolean": "valueBoolean", "code": "valueCode",
               "Period": "valuePeriod"}[param.type]
        values = {k: v for k, v in part.items() if k.startswith("value")}
        # a code is a string too: accept valueString where the IG types the value as code
        value = values.get(key, values.get("valueString") if param.type == "code" else None)
        if value is None or len(values) != 1:
            raise _refuse(f"parameter '{param.name}' takes {key}")
        if param.type == "Period":
            if not isinstance(value, dict):
                raise _refuse(f"parameter '{param.name}': valuePeriod must be a Period")
            value = Period(_date(param.name, value.get("start")), _date(param.name, value.get("end")))
        elif param.type == "boolean" and not isinstance(value, bool):
            raise _refuse(f"parameter '{param.name}': valueBoolean must be true or false")
        elif param.type != "boolean" and not (isinstance(value, str) and value.strip()):
            raise _refuse(f"parameter '{param.name}': {key} must be a non-empty string")
        out.setdefault(param.name, []).append(value.strip() if isinstance(value, str) else value)
    return _checked(op, out)


def _known(op: Operation, name: str) -> Param:
    param = op.param(name)
    if param is None:
        raise _refuse(f"'{name}' is not a parameter of ${op.name}; its parameters: "
                      f"{', '.join(p.name for p in op.inputs)}", "not-supported")
    return param


def _checked(op: Operation, inputs: Inputs) -> Inputs:
    for param in op.inputs:
        got = inputs.get(param.name, [])
        if len(got) < param.min:
            raise _refuse(f"parameter '{param.name}' is required by ${op.name}", "required")
        if param.max == "1" and len(got) > 1:
            raise _refuse(f"parameter '{param.name}' of ${op.name} takes one value, "
                          f"not {len(got)}")
    return inputs


def _boolean(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise _refuse(f"parameter '{name}': '{value}' is not true or false")
    return value == "true"


def _date(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value[:10]) or _DATE.match(value[:10])[1]:
        raise _refuse(f"parameter '{name}': '{value}' is not a FHIR date")
    return value[:10]


def _period_of_prefixes(values: list[str]) -> Period:
    start = end = None
    for value in values:
        m = _DATE.match(value.strip())
        if m is None or m[1] in (None, "eq"):
            raise _refuse(f"parameter 'testDateRange': '{value}' is not a date with a prefix "
                          "ge / gt (start) or le / lt (end), e.g. ge2026-01-01")
        if m[1] in ("ge", "gt"):
            start = m[2]
        else:
            end = m[2]
    return Period(start, end)


def one(inputs: Inputs, name: str, default: Any = None) -> Any:
    got = inputs.get(name)
    return got[0] if got else default
