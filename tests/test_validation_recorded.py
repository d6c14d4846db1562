"""The validator finds exactly the issues recorded in tests/data/validation/issues-recorded.json on the
IG examples and the negative fixtures, and those of issues-mutated.json on seeded mutations of them
(both recorded before the validator was made faster; regenerate only for a deliberate change of what
is checked, with tests/data/validation/record_issues.py). The mutations it raised on then were added
when it stopped raising on malformed input (tests/test_validation_malformed.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from allfhir.validation.packages import missing_reason
from allfhir.validation.validator import Validator

DATA = Path(__file__).parent / "data" / "validation"
pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def _recorder():  # a script, not a package module: loaded by path
    spec = importlib.util.spec_from_file_location("record_issues", DATA / "record_issues.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_issues_are_the_recorded_ones() -> None:
    recorder = _recorder()
    recorded = json.loads((DATA / "issues-recorded.json").read_text(encoding="utf-8"))
    validator = Validator()
    found = {label: recorder.issues_of(validator, path) for label, path in recorder.inputs()}
    assert sorted(found) == sorted(recorded)
    changed = {label: {"now": found[label], "recorded": recorded[label]}
               for label in recorded if found[label] != recorded[label]}
    assert changed == {}


def test_issues_of_mutated_inputs_are_the_recorded_ones() -> None:
    recorder = _recorder()
    recorded = json.loads((DATA / "issues-mutated.json").read_text(encoding="utf-8"))
    validator = Validator()
    found = {label: recorder.mutated_issues(validator, doc) for label, doc in recorder.mutated_inputs()}
    assert sorted(found) == sorted(recorded)  # every mutation, those it once raised on too
    changed = {label: {"now": found[label], "recorded": recorded[label]}
               for label in recorded if found[label] != recorded[label]}
    assert changed == {}
    assert sum(len(issues) for issues in recorded.values()) > 700  # the mutations do break things
