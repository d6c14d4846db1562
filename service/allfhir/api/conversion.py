"""`$convert`: the uploaded files through the pipeline into the store.

The pipeline reads files, so the upload is written to a private temporary folder under the names
the client gave (problems then name the client's file, not a temporary path). A submission is
identified by the sha256 of its files and conversion parameters; a resubmission (same digest or
same Idempotency-Key) is answered from the store without converting again.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from .. import ingest
from ..convert import convert
from ..errors import InputError, Problem, RequestError, operation_outcome
from ..fhir.bundle import BuildOptions
from ..fhir.common import IdSystems
from ..report.embed import with_pdf
from ..store import Store, submissions

Json = dict[str, Any]

# raw body media type -> the name the body is converted under (its extension guides nothing but
# the messages: the format is detected from content or given as `format`)
RAW_TYPES = {"text/csv": "upload.csv", "text/tab-separated-values": "upload.tsv",
             "application/json": "upload.json"}
BOOLEAN = {"true": True, "false": False}


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
              f"bundle-type={b.bundle_type}|actionability={b.actionability}|" \
              f"systems={b.systems.sample} {b.systems.report} {b.systems.resource}"
        return key + (f"|presented-form={self.presented_form}" if self.presented_form else "")


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
    assembly = args.get("assembly") or None  # of fusion breakpoints, as `convert --assembly`
    if assembly not in (None, "GRCh37", "GRCh38"):
        raise RequestError("malformed", f"assembly '{assembly}' is not GRCh37 or GRCh38", code="value")
    presented = args.get("presented-form") or None
    if presented not in (None, "pdf"):
        raise RequestError("malformed", f"presented-form '{presented}' is not supported: pdf (the "
                           "HTML is always presented)", code="value")
    return Options(fmt, args.get("sample") or None,
                   BuildOptions(bundle_type=bundle_type, patient=args.get("patient") or None,
                                actionability=BOOLEAN[actionability], systems=systems,
                                assembly=assembly), presented)


def upload(mimetype: str, body: bytes, files: list[FileStorage]) -> Upload:
    if mimetype == "multipart/form-data":
        named: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for i, f in enumerate(files):
            name = secure_filename(f.filename or "") or f"file{i + 1}"
            if name in seen:
                name = f"{i + 1}-{name}"
            seen.add(name)
            named.append((name, f.read()))
        if not named:
            raise RequestError("malformed", "the multipart body carries no file: send the "
                               "classifier file (and its companion files) as file fields")
        return Upload(named, body, mimetype)
    if mimetype not in RAW_TYPES:
        raise RequestError("unsupported-media-type", f"cannot convert a '{mimetype or 'untyped'}' "
                           "body: send text/csv, text/tab-separated-values, application/json or "
                           "multipart/form-data")
    if not body.strip():
        raise RequestError("malformed", "the request body is empty", code="required")
    return Upload([(RAW_TYPES[mimetype], body)], body, mimetype)


def submission(up: Upload, opts: Options, client: str, idempotency_key: str | None
               ) -> submissions.Submission:
    parts: list[bytes | str] = [opts.key()]
    for name, data in sorted(up.files):
        parts += [name, data]
    return submissions.Submission(body=up.body, sha256=submissions.digest(*parts),
                                  content_type=up.content_type, format=opts.format, client=client,
                                  idempotency_key=idempotency_key)


def run(store: Store, up: Upload, opts: Options, sub: submissions.Submission,
        whole: bool = False) -> submissions.Stored:
    """Convert and store; an InputError when no sample converted (nothing is stored then).
    `whole`: also when any row was refused (the web page stores an upload whole or not at all,
    so a lab fixes its file rather than signing out part of a run)."""
    found = submissions.find(store, sub.sha256, sub.idempotency_key)
    if found:
        return found
    bundles, problems = _convert(up, opts)
    if not bundles or (whole and problems):
        raise InputError(problems or [Problem("no sample in the input", code="required")])
    return submissions.save(store, sub, bundles, operation_outcome(problems) if problems else None)


@contextmanager
def _written(up: Upload) -> Iterator[tuple[Path, list[Path]]]:
    """The uploaded files in a private temporary folder, under the names the client gave."""
    with tempfile.TemporaryDirectory(prefix="allfhir-") as tmp:
        folder = Path(tmp)
        paths = []
        for name, data in up.files:
            (folder / name).write_bytes(data)
            paths.append(folder / name)
        yield folder, paths


def formats(up: Upload) -> list[tuple[str, str | None, str | None]]:
    """(file name, detected format, its kind) of each uploaded file; None when not recognised
    (the conversion then says why)."""
    out: list[tuple[str, str | None, str | None]] = []
    with _written(up) as (_, paths):
        for path in paths:
            try:
                name = ingest.detect_format(path)
            except InputError:
                out.append((path.name, None, None))
                continue
            out.append((path.name, name, ingest.ADAPTERS[name].KIND))
    return out


def _convert(up: Upload, opts: Options) -> tuple[list[Json], list[Problem]]:
    with _written(up) as (folder, paths):
        bundles: list[Json] = []
        problems: list[Problem] = []
        try:
            for item in convert(paths, opts.format, opts.build, sample_id=opts.sample):
                if isinstance(item, InputError):
                    problems.extend(item.problems)
                elif opts.presented_form == "pdf":
                    bundles.append(with_pdf(item))
                else:
                    bundles.append(item)
        except InputError as err:
            raise InputError([_client_names(p, folder) for p in err.problems]) from None
    return bundles, [_client_names(p, folder) for p in problems]


def _client_names(problem: Problem, folder: Path) -> Problem:
    if problem.file and problem.file.startswith(str(folder)):
        return dataclasses.replace(problem, file=Path(problem.file).name)
    return problem


def parameters(stored: submissions.Stored) -> Json:
    """The $convert answer: one `report` per sample, one `outcome` for the refused rows."""
    parts: list[Json] = [{"name": "report", "resource": b} for b in stored.reports]
    if stored.outcome:
        parts.append({"name": "outcome", "resource": stored.outcome})
    return {"resourceType": "Parameters", "parameter": parts}
