"""Validation issues and their OperationOutcome form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding; `expression` is a FHIRPath-style location such as Bundle.entry[3].resource.code."""

    message: str
    expression: str
    severity: str = "error"  # error | warning | information
    code: str = "invalid"  # FHIR issue-type: structure | required | value | invariant | code-invalid ...
    check: str = ""  # which check produced it (structure, profile, binding, constraint, bundle, code-syntax)

    def to_issue(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "diagnostics": self.message,
                "expression": [self.expression]}

    def text(self) -> str:
        return f"{self.severity}: {self.expression}: {self.message}"


STATS_KEPT = 1000  # entries the input names (missing profiles, HGVS strings) Stats keeps at most


@dataclass(slots=True)
class Stats:
    """What could not be checked offline: counted, so the report says what was left out."""

    constraints_evaluated: int = 0
    constraints_skipped: dict[str, str] = field(default_factory=dict)  # key -> why (fhirpathpy failure)
    value_sets_skipped: dict[str, str] = field(default_factory=dict)  # url -> why (not expandable offline)
    profiles_missing: set[str] = field(default_factory=set)
    hgvs_repeats_skipped: set[str] = field(default_factory=set)  # repeat notation the parser lacks


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    if not issues:
        return {"resourceType": "OperationOutcome",
                "issue": [{"severity": "information", "code": "informational", "diagnostics": "valid"}]}
    return {"resourceType": "OperationOutcome", "issue": [i.to_issue() for i in issues]}


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity in ("error", "fatal")]
