"""The operations of the Genomics Reporting IG 3.0.0 served here, with the IG's own input
parameters (name, min, max, type), read from its OperationDefinitions
(package hl7.fhir.uv.genomics-reporting 3.0.0, `package/OperationDefinition-<name>.json`;
tests/genomics/test_definitions.py checks this table against them).

Left out: the haplotype and molecular-consequence operations (no BCP-ALL classifier reports
haplotypes or genotypes; molecular consequences are emitted only for fusions) and the
population structural operations (a registry asks for fusions and subtypes by name, which the
dx/tx implication operations answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import codes

CANONICAL = f"{codes.IG}/OperationDefinition"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    min: int
    max: str  # "1" | "*"
    type: str  # FHIR type of the value: string | boolean | Period | code


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    group: str  # the reference implementation's path segment (genotype / phenotype / metadata)
    inputs: tuple[Param, ...]

    @property
    def population(self) -> bool:
        return self.name.startswith("find-population-")

    @property
    def url(self) -> str:
        return f"{CANONICAL}/{self.name}"

    @property
    def path(self) -> str:
        """Its path in FHIR/genomics-operations (for clients written against that server)."""
        kind = "population" if self.population else "subject"
        return f"/{kind}-operations/{self.group}-operations/${self.name}"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.inputs if p.name == name), None)


SUBJECT = Param("subject", 1, "1", "string")
FILTERS = (Param("testIdentifiers", 0, "*", "string"), Param("testDateRange", 0, "1", "Period"),
           Param("specimenIdentifiers", 0, "*", "string"))
SOURCE = Param("genomicSourceClass", 0, "1", "string")
PATIENTS = Param("includePatientList", 0, "1", "boolean")
INCLUDE = Param("includeVariants", 0, "1", "boolean")


def _some(name: str) -> Param:
    return Param(name, 0, "*", "string")


def _many(name: str) -> Param:
    return Param(name, 1, "*", "string")


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("find-subject-variants", "genotype", (
        SUBJECT, _many("ranges"), *FILTERS, Param("genomicSourceClass", 0, "1", "code"), INCLUDE,
        Param("includePhasing", 0, "1", "boolean"))),
    Operation("find-subject-specific-variants", "genotype", (
        SUBJECT, _many("variants"), *FILTERS, SOURCE)),
    Operation("find-subject-structural-intersecting-variants", "genotype", (
        SUBJECT, _many("ranges"), *FILTERS, SOURCE, INCLUDE)),
    Operation("find-subject-structural-subsuming-variants", "genotype", (
        SUBJECT, _many("ranges"), *FILTERS, SOURCE, INCLUDE)),
    Operation("find-subject-tx-implications", "phenotype", (
        SUBJECT, _some("variants"), _some("ranges"), _some("haplotypes"), _some("treatments"),
        _some("conditions"), *FILTERS, SOURCE)),
    Operation("find-subject-dx-implications", "phenotype", (
        SUBJECT, _some("variants"), _some("ranges"), _some("conditions"), *FILTERS, SOURCE)),
    Operation("find-study-metadata", "metadata", (SUBJECT, *FILTERS, _some("ranges"))),
    Operation("find-population-specific-variants", "genotype", (
        _many("variants"), SOURCE, PATIENTS)),
    Operation("find-population-tx-implications", "phenotype", (
        _some("variants"), _some("haplotypes"), _some("treatments"), _some("conditions"), SOURCE,
        PATIENTS)),
    Operation("find-population-dx-implications", "phenotype", (
        _some("variants"), _some("haplotypes"), _some("conditions"), SOURCE, PATIENTS)),
)}
