"""`$convert`: the uploaded files through the pipeline into the store.

The pipeline reads the uploaded files from memory, each named as the client named it (problems
then name the client's file), never written to disk. A submission is
identified by the sha256 of its files and conversion parameters; a resubmission (same digest or
same Idempotency-Key) is answered from the store without converting again.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header
from werkzeug.utils import secure_filename

from .. import ingest
from ..convert import convert
from ..errors import InputError, Problem, RequestError, operation_outcome
from ..exchange import outbox
from ..fhir.bundle import BuildOptions
from ..fhir.common import IdSystems, effective_problem, order_problem, reference_problem
from ..ingest.source import Source
from ..jsonout import dumps_bytes
from ..parameters_body import json_body
from ..report.embed import with_pdf
from ..store import Store, Transaction, submissions
from .negotiation import FHIR_JSON

Json = dict[str, Any]

# raw body media type -> the name the body is converted under (its extension guides nothing but
# the messages: the format is detected from content or given as `format`)
RAW_TYPES = {"text/csv": "upload.csv", "text/tab-separated-values": "upload.tsv",
             "application/json": "upload.json"}
BOOLEAN = {"true": True, "false": False}
ETAG = re.compile(r'(?:W/)?"(\d+)"$')
# $convert parameters besides `file`, and the value[x] each takes in a Parameters body
# (profiles/input/fsh/OperationDefinitions.fsh defines them)
VALUE_TYPES: dict[str, tuple[str, ...]] = {
    "format": ("valueCode", "valueString"),
    "patient": ("valueString", "valueReference"),
    "sample": ("valueString",),
    "specimen": ("valueString", "valueReference"),
    "order": ("valueString", "valueIdentifier"),
    "effective": ("valueDateTime", "valueDate", "valueString"),
    "bundle-type": ("valueCode", "valueString"),
    "actionability": ("valueBoolean",),
    "presented-form": ("valueCode", "valueString"),
    "assembly": ("valueCode", "valueString"),
}


@dataclass(frozen=True, slots=True)
class Upload:
    files: list[tuple[str, bytes]]  # (file name, content)
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Options:
    format: str | None
    sample: str | None
    build: BuildOptions
    presented_form: str | None = None  # 'pdf': the report also embeds its PDF (report/embed.py)

    def key(self) -> str:
        b = self.build
        # the identifier systems shape the reports too: a deployment that changes them gets
        # reports in the new namespaces, not the stored ones
        key = f"format={self.format}|sample={self.sample}|patient={b.patient}|" \
               f"specimen={b.specimen}|order={b.order}|effective={b.effective}|" \
               f"bundle-type={b.bundle_type}|actionability={b.actionability}|" \
               f"systems={b.systems.sample} {b.systems.report} {b.systems.resource} {b.systems.order}"
        # options added later join the key only when set: earlier submissions keep their digest
        key += f"|presented-form={self.presented_form}" if self.presented_form else ""
        return key + (f"|assembly={b.assembly}" if b.assembly else "")


def options(args: Any, systems: IdSystems) -> Options:
    fmt = args.get("format")
    if fmt is not None and fmt not in ingest.ADAPTERS:
        raise RequestError("malformed", f"format '{fmt}' is not one of: {', '.join(sorted(ingest.ADAPTERS))}",
                           code="value")
    bundle_type = args.get("bundle-type", "collection")
    if bundle_type not in ("collection", "transaction"):
        raise RequestError("malformed", f"bundle-type '{bundle_type}' is not one of: collection, "
                           "transaction", code="value")
    actionability = args.get("actionability", "true")
    if actionability not in BOOLEAN:
        raise RequestError("malformed", f"actionability '{actionability}' is not true or false",
                           code="value")
    specimen, order = args.get("specimen") or None, args.get("order") or None
    effective = args.get("effective") or None
    assembly = args.get("assembly") or None  # of fusion breakpoints, as `convert --assembly`
    if assembly not in (None, "GRCh37", "GRCh38"):
        raise RequestError("malformed", f"assembly '{assembly}' is not GRCh37 or GRCh38", code="value")
    presented = args.get("presented-form") or None
    if presented not in (None, "pdf"):
        raise RequestError("malformed", f"presented-form '{presented}' is not supported: pdf (the "
                           "HTML is always presented)", code="value")
    wrong = (specimen and reference_problem("specimen", specimen, "Specimen")) or \
        (order and order_problem(order)) or \
        (effective and effective_problem("effective", effective))
    if wrong:
        raise RequestError("malformed", wrong, code="value")
    return Options(fmt, args.get("sample") or None,
                   BuildOptions(bundle_type=bundle_type, patient=args.get("patient") or None,
                                actionability=BOOLEAN[actionability], specimen=specimen,
                                order=order, effective=effective, assembly=assembly,
                                systems=systems), presented)


def received(content_type: str, body: bytes, query: MultiDict) -> tuple[Upload, MultiDict]:
    """`receive` of a request from its recorded bytes and Content-Type header (an asynchronous
    job's): the multipart parts are parsed again, as the request's own parser parsed them."""
    mimetype, options = parse_options_header(content_type)
    mimetype = mimetype.lower()  # as Request.mimetype is
    parts: list[FileStorage] = []
    if mimetype == "multipart/form-data":
        _, _, files = FormDataParser(silent=False).parse(BytesIO(body), mimetype, len(body), options)
        parts = [f for _, f in files.items(multi=True)]
    return receive(mimetype, body, parts, query)


def receive(mimetype: str, body: bytes, files: list[FileStorage], args: MultiDict
            ) -> tuple[Upload, MultiDict]:
    """The files to convert and the conversion parameters, from any of the accepted bodies:
    a raw file, multipart/form-data, or a FHIR Parameters resource (then its parameters join
    the query's; one given in both is refused rather than silently picked)."""
    doc = _parameters_body(mimetype, body)
    if doc is None:
        return upload(mimetype, body, files), args
    named, given = from_parameters(doc)
    twice = sorted(set(given) & set(args))
    if twice:
        raise RequestError("malformed", f"parameter '{twice[0]}' is given both in the query and "
                           "in the Parameters body: give it once", code="value")
    return Upload(named, body, mimetype), MultiDict([*args.items(multi=True), *given.items()])


def _parameters_body(mimetype: str, body: bytes) -> Json | None:
    # application/fhir+json is a FHIR resource; application/json is our generic JSON unless it
    # is a Parameters resource (clients often send FHIR with the plain JSON type)
    if mimetype not in (FHIR_JSON, "application/json"):
        return None
    if mimetype == "application/json" and b'"Parameters"' not in body:
        return None  # cannot be one: spare a cohort's generic JSON a second parse
    try:
        doc = json_body(body)
    except RequestError:
        if mimetype == FHIR_JSON:
            raise
        return None  # generic JSON: the adapter reports where it breaks, with line and column
    if isinstance(doc, dict) and doc.get("resourceType") == "Parameters":
        return doc
    if mimetype == FHIR_JSON:
        raise RequestError("malformed", "a FHIR body to $convert is a Parameters resource with "
                           "'file' parameters (valueAttachment)", code="structure")
    return None


def from_parameters(doc: Json) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """(file name, content) of every `file` part, and the other parameters as query strings."""
    files: list[tuple[str | None, bytes]] = []
    given: dict[str, str] = {}
    for part in doc.get("parameter") or []:
        name = part.get("name") if isinstance(part, dict) else None
        if name == "file":
            files.append(_attachment(part.get("valueAttachment")))
        elif name in VALUE_TYPES:
            if name in given:
                raise RequestError("malformed", f"parameter '{name}' is given twice", code="value")
            given[name] = _value(name, part)
        else:
            raise RequestError("malformed", f"unknown $convert parameter '{name}'; known: file, "
                               f"{', '.join(VALUE_TYPES)}", code="not-supported")
    if not files:
        raise RequestError("malformed", "the Parameters carry no 'file' parameter: send the "
                           "classifier file (and its companion files) as valueAttachment data",
                           code="required")
    return _named(files), given


def _attachment(att: Any) -> tuple[str | None, bytes]:
    if not isinstance(att, dict) or not isinstance(att.get("data"), str):
        raise RequestError("malformed", "a 'file' parameter is a valueAttachment with the file's "
                           "content as base64 'data' (a 'url' is not fetched)", code="required")
    try:
        data = base64.b64decode(att["data"], validate=True)
    except binascii.Error:
        raise RequestError("malformed", f"the data of file '{att.get('title', '')}' is not "
                           "base64", code="value") from None
    # the title names the file (problems then name it); else the content type's usual name
    return att.get("title") or RAW_TYPES.get(str(att.get("contentType") or "").split(";")[0]), data


def _value(name: str, part: Json) -> str:
    """A Parameters value as the query would spell it."""
    for kind in VALUE_TYPES[name]:
        if kind in part:
            value = part[kind]
            if kind == "valueBoolean":
                return "true" if value is True else "false" if value is False else str(value)
            if kind in ("valueReference", "valueIdentifier"):
                ident = (value.get("identifier") if kind == "valueReference" else value) or {}
                if kind == "valueReference" and value.get("reference"):
                    return str(value["reference"])
                return f"{ident.get('system', '')}|{ident.get('value', '')}" \
                    if ident.get("system") else str(ident.get("value", ""))
            return str(value)
    raise RequestError("malformed", f"parameter '{name}' takes {' or '.join(VALUE_TYPES[name])}",
                       code="value")


def _named(files: list[tuple[str | None, bytes]]) -> list[tuple[str, bytes]]:
    """Safe, distinct file names (problems name them)."""
    named: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for i, (given, data) in enumerate(files):
        name = secure_filename(given or "") or f"file{i + 1}"
        if name in seen:
            name = f"{i + 1}-{name}"
        seen.add(name)
        named.append((name, data))
    return named


def upload(mimetype: str, body: bytes, files: list[FileStorage]) -> Upload:
    if mimetype == "multipart/form-data":
        named = _named([(f.filename, f.read()) for f in files])
        if not named:
            raise RequestError("malformed", "the multipart body carries no file: send the "
                               "classifier file (and its companion files) as file fields")
        return Upload(named, body, mimetype)
    if mimetype not in RAW_TYPES:
        raise RequestError("unsupported-media-type", f"cannot convert a '{mimetype or 'untyped'}' "
                           "body: send text/csv, text/tab-separated-values, application/json, "
                           "multipart/form-data or a Parameters resource (application/fhir+json)")
    if not body.strip():
        raise RequestError("malformed", "the request body is empty", code="required")
    return Upload([(RAW_TYPES[mimetype], body)], body, mimetype)


def precondition(header: str | None) -> int | str | None:
    """The version an `If-Match` header names: W/"3" (our ETags) or "3" -> 3, * -> '*'."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return value
    m = ETAG.match(value)
    if not m:
        raise RequestError("malformed", f"If-Match '{header}' is not an ETag of this server "
                           '(W/"<versionId>") or *', code="value")
    return int(m[1])


def submission(up: Upload, opts: Options, client: str, idempotency_key: str | None
               ) -> submissions.Submission:
    parts: list[bytes | str] = [opts.key()]
    for name, data in sorted(up.files):
        parts += [name, data]
    return submissions.Submission(body=up.body, sha256=submissions.digest(*parts),
                                  content_type=up.content_type, format=opts.format, client=client,
                                  idempotency_key=idempotency_key)


def run(store: Store, up: Upload, opts: Options, sub: submissions.Submission,
        if_match: int | str | None = None, whole: bool = False,
        also: submissions.AfterWrite | None = None) -> submissions.Stored:
    """Convert and store; an InputError when no sample converted (nothing is stored then).
    `if_match`: the version the amended reports must be at ('*': any stored version).
    `whole`: also refuse when any row was refused (the web page stores an upload whole or not at
    all, so a lab fixes its file rather than signing out part of a run). `also`: more to write
    in the transaction that stores new reports (the request's AuditEvent)."""
    found = submissions.find(store, sub.sha256, sub.idempotency_key)
    if found:
        return found
    bundles, problems = _convert(up, opts)
    if not bundles or (whole and problems):
        raise InputError(problems or [Problem("no sample in the input", code="required")])
    # the deliveries of the new reports are queued in the transaction that stores them (outbox)
    def after(store: Store, conn: Transaction, reports: list[Json]) -> None:
        outbox.queue(store, conn, reports)
        if also is not None:
            also(store, conn, reports)

    return submissions.save(store, sub, bundles, operation_outcome(problems) if problems else None,
                            if_match, after=after)


def _sources(up: Upload) -> list[Source]:
    """The uploaded files as the pipeline's inputs, under the names the client gave."""
    return [Source(name, data) for name, data in up.files]


def formats(up: Upload) -> list[tuple[str, str | None, str | None]]:
    """(file name, detected format, its kind) of each uploaded file; None when not recognised
    (the conversion then says why)."""
    out: list[tuple[str, str | None, str | None]] = []
    for source in _sources(up):
        try:
            name = ingest.detect_format(source)
        except InputError:
            out.append((source.name, None, None))
            continue
        out.append((source.name, name, ingest.ADAPTERS[name].KIND))
    return out


def _convert(up: Upload, opts: Options) -> tuple[list[Json], list[Problem]]:
    bundles: list[Json] = []
    problems: list[Problem] = []
    for item in convert(_sources(up), opts.format, opts.build, sample_id=opts.sample):
        if isinstance(item, InputError):
            problems.extend(item.problems)
        elif opts.presented_form == "pdf":
            bundles.append(with_pdf(item))
        else:
            bundles.append(item)
    return bundles, problems


def parameters(stored: submissions.Stored) -> Json:
    """The $convert answer: one `report` per sample, one `outcome` for the refused rows."""
    parts: list[Json] = [{"name": "report", "resource": b} for b in stored.reports]
    if stored.outcome:
        parts.append({"name": "outcome", "resource": stored.outcome})
    return {"resourceType": "Parameters", "parameter": parts}


def ndjson(stored: submissions.Stored) -> Iterator[bytes]:
    """The report Bundles one per line, as `allfhir convert` writes them. The CLI puts the refused
    rows' OperationOutcome on stderr; HTTP has one stream, so it is the last line (its
    resourceType tells it apart)."""
    for bundle in stored.reports:
        yield dumps_bytes(bundle) + b"\n"
    if stored.outcome:
        yield dumps_bytes(stored.outcome) + b"\n"
