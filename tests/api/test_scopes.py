from __future__ import annotations

import pytest

from allfhir.api.scopes import allows, permissions


@pytest.mark.parametrize(("scope", "rtype", "letter", "expected"), [
    ("system/*.read", "DiagnosticReport", "r", True),
    ("system/*.read", "DiagnosticReport", "s", True),
    ("system/*.read", "DiagnosticReport", "c", False),
    ("system/*.write", "Observation", "c", True),
    ("system/*.write", "Observation", "u", True),
    ("system/*.write", "Observation", "r", False),
    ("system/DiagnosticReport.rs", "DiagnosticReport", "s", True),
    ("system/DiagnosticReport.rs", "Observation", "r", False),
    ("system/*.cruds", "Task", "d", True),
    ("system/Observation.*", "Observation", "u", True),
    ("patient/*.read", "DiagnosticReport", "r", False),  # not a backend-service scope
    ("user/*.cruds", "DiagnosticReport", "r", False),
    ("system/Observation.rs?category=laboratory", "Observation", "r", False),  # narrowed: not honoured
    ("system/Observation.sr", "Observation", "r", False),  # v2 letters come in cruds order
])
def test_smart_v1_and_v2_system_scopes(scope: str, rtype: str, letter: str, expected: bool) -> None:
    assert allows([scope], rtype, letter) is expected


def test_permissions() -> None:
    assert permissions("system/*.read") == ("*", {"r", "s"})
    assert permissions("system/Task.cu") == ("Task", {"c", "u"})
    assert permissions("system/Task.") is None
