"""Validate the FHIR resources and bundles allfhir emits: FHIR R4 base + HL7 Genomics Reporting IG 3.0.0
profiles + our own profiles (profiles/, when compiled SDs are there).

Design choice: the official HL7 Java validator cannot be obtained in our build environment and
Medplum's validator fails on the genomics profiles, so we validate directly on the StructureDefinition
snapshots shipped in the FHIR packages (fetched from the npm registry by `allfhir packages fetch`):

  structure   fhir.resources R4B models (R4B == R4 for the types we emit)     structural.py
              (not parsed when the JSON is plainly what they accept)             structure_screen.py
  profile     snapshot walk: cardinality, fixed/pattern, choice types, slicing by value/pattern
              discriminators, required bindings (offline-expandable ValueSets), constraint
              expressions via fhirpathpy (ele-1 and the cases the JSON alone settles are
              decided without it)                                  profile.py, prescreen.py, terminology.py
  bundle      references resolve to entries, fullUrl unique                    references.py
  codes       LOINC check digit, HGNC/NCT id form, HGVS parse, our subtype CodeSystem   codes.py

What cannot be checked offline is counted, not guessed (Validator.stats): ValueSets that need a
terminology server, FHIRPath functions fhirpathpy lacks, profile discriminators (resolve()).

Any JSON is input (`$validate` takes a client's): a value of the wrong JSON type anywhere is the
structural check's issue, and the other checks skip what they cannot read (never an exception;
tests/data/validation/find_crashes.py mutates every element of the IG examples to keep it so).
JSON nested deeper than the checks recurse is one issue (nesting.py); what is cached per URL or
code the input names is bounded.
"""


from __future__ import annotations

from typing import Any

from .issues import Issue, operation_outcome

__all__ = ["Issue", "Validator", "operation_outcome", "validate", "validate_to_outcome"]


def __getattr__(name: str) -> Any:
    # PEP 562: the validator (FHIR packages, knowledge, fhirpathpy) is imported on first use, so the
    # CLI can register `allfhir validate` without paying for it on every command.
    if name in ("Validator", "validate", "validate_to_outcome"):
        from . import validator

        return getattr(validator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
