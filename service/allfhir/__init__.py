"""allfhir: BCP-ALL molecular classifier output -> HL7 FHIR R4 Genomics Reporting reports."""

__version__ = "0.1.0"
