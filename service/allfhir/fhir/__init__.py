"""FHIR builders: normalized model + knowledge -> FHIR R4 resources as plain dicts.

Resources are built as plain data on the hot path (no pydantic per resource); conformance is
checked at the boundaries and in CI (allfhir.validation, tests). A cohort's report texts come from
one template per shape of report (templates.py), made through these builders.
"""
