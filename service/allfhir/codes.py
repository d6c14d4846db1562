"""Fixed URLs and codes that the Genomics Reporting IG 3.0.0 profiles themselves fix.

Everything here is dictated by the IG's FSH source (HL7/genomics-reporting @ 3.0.0-published,
input/fsh/CGGeneral.fsh, CGFindings.fsh, CGImplications.fsh, CGExtensions.fsh, Aliases.fsh) or
is our own canonical namespace. Terminology content (subtype codes, genes, SO terms, LOINC
answers, RxNorm...) lives in mappings/, never here.
"""

from __future__ import annotations

from typing import Final

FHIR_VERSION: Final = "4.0.1"

# --- code systems (IG Aliases.fsh; THO canonical URLs) -----------------------------------------
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
NCIT: Final = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
# No HL7-registered OncoTree URI exists; this is the one the MII Molecular Tumor Board IG uses.
ONCOTREE: Final = "http://data.mskcc.org/ontologies/oncotree"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC: Final = "http://www.genenames.org"
HGVS: Final = "http://varnomen.hgvs.org"
SEQUENCE_ONTOLOGY: Final = "http://www.sequenceontology.org"
ISCN: Final = "https://iscn.karger.com"  # Aliases.fsh $ISCN ("defined in THO with https")
CLINICALTRIALS: Final = "http://clinicaltrials.gov"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE: Final = "http://terminology.hl7.org/CodeSystem/v2-0074"
TBD_CODES: Final = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
BIOMARKER_CATEGORY: Final = TBD_CODES  # MolecularBiomarker category slice uses TbdCodesCS

# System name used in mappings/subtype_codes.csv -> canonical URL.
TERMINOLOGY_SYSTEMS: Final = {
    "snomed-ct": SNOMED,
    "icd-o-3": ICDO3,
    "ncit": NCIT,
    "oncotree": ONCOTREE,
    "icd-10-cm": ICD10CM,
}

# --- Genomics Reporting IG profiles -------------------------------------------------------------
IG: Final = "http://hl7.org/fhir/uv/genomics-reporting"
PROFILE_GENOMIC_REPORT: Final = f"{IG}/StructureDefinition/genomic-report"
PROFILE_VARIANT: Final = f"{IG}/StructureDefinition/variant"
PROFILE_MOLECULAR_BIOMARKER: Final = f"{IG}/StructureDefinition/molecular-biomarker"
PROFILE_DIAGNOSTIC_IMPLICATION: Final = f"{IG}/StructureDefinition/diagnostic-implication"
PROFILE_MOLECULAR_CONSEQUENCE: Final = f"{IG}/StructureDefinition/molecular-consequence"
PROFILE_THERAPEUTIC_IMPLICATION: Final = f"{IG}/StructureDefinition/therapeutic-implication"
PROFILE_MEDICATION_RECOMMENDATION: Final = f"{IG}/StructureDefinition/medication-recommendation"
PROFILE_FOLLOWUP_RECOMMENDATION: Final = f"{IG}/StructureDefinition/followup-recommendation"
EXT_RECOMMENDED_ACTION: Final = f"{IG}/StructureDefinition/recommended-action"
EXT_RELATED_ARTIFACT_COMPONENT: Final = f"{IG}/StructureDefinition/workflow-relatedArtifactComponent"
EXT_RELATED_ARTIFACT: Final = "http://hl7.org/fhir/StructureDefinition/workflow-relatedArtifact"

# Codes the profiles fix (code = ... in the FSH).
LOINC_GENOMIC_REPORT: Final = "51969-4"  # GenomicReport.code
LOINC_VARIANT: Final = "69548-6"  # Variant.code
LOINC_GENE_STUDIED: Final = "48018-6"
LOINC_CYTOGENETIC_LOCATION: Final = "48001-2"
LOINC_CHROMOSOME_IDENTIFIER: Final = "48000-4"
LOINC_REFERENCE_ASSEMBLY: Final = "62374-4"
LOINC_CODING_HGVS: Final = "48004-6"
LOINC_PROTEIN_HGVS: Final = "48005-3"
LOINC_GENOMIC_HGVS: Final = "81290-9"
LOINC_TRANSCRIPT_REF_SEQ: Final = "51958-7"
LOINC_CODING_CHANGE_TYPE: Final = "48019-4"
LOINC_GENOMIC_SOURCE_CLASS: Final = "48002-0"
LOINC_ALLELE_FREQUENCY: Final = "81258-6"
LOINC_ALLELIC_READ_DEPTH: Final = "82121-5"
LOINC_COPY_NUMBER: Final = "82155-3"
LOINC_CYTOGENOMIC_NOMENCLATURE: Final = "81291-7"
LOINC_REF_ALLELE: Final = "69547-8"
LOINC_ALT_ALLELE: Final = "69551-0"
LOINC_EXACT_START_END: Final = "81254-5"
LOINC_COORDINATE_SYSTEM: Final = "92822-6"
LOINC_VARIATION_CODE: Final = "81252-9"
LOINC_PREDICTED_PHENOTYPE: Final = "81259-4"  # also phenotypic-treatment-context
LOINC_EVIDENCE_LEVEL: Final = "93044-6"
LOINC_CLINICAL_SIGNIFICANCE: Final = "53037-8"
LOINC_MEDICATION_ASSESSED: Final = "51963-7"

TBD_DIAGNOSTIC_IMPLICATION: Final = "diagnostic-implication"
TBD_THERAPEUTIC_IMPLICATION: Final = "therapeutic-implication"
TBD_CONCLUSION_STRING: Final = "conclusion-string"
TBD_ASSOCIATED_THERAPY: Final = "associated-therapy"
TBD_BIOMARKER_CATEGORY: Final = "biomarker-category"
TBD_MOLECULAR_CONSEQUENCE: Final = "molecular-consequence"  # MolecularConsequence.code
TBD_FUNCTIONAL_EFFECT: Final = "functional-effect"  # its functional-effect component

# --- our own canonical namespace (profiles/ defines these CodeSystems and NamingSystems) ---------
ALLFHIR: Final = "https://allfhir.org/fhir"
CS_SUBTYPE: Final = f"{ALLFHIR}/CodeSystem/bcp-all-subtype"
# Observation/component codes the IG has no code for (defined in profiles/, CodeSystem allfhir-codes).
CS_ALLFHIR: Final = f"{ALLFHIR}/CodeSystem/allfhir-codes"
NS_REPORT_ID: Final = f"{ALLFHIR}/NamingSystem/report-id"
NS_RESOURCE_ID: Final = f"{ALLFHIR}/NamingSystem/resource-id"
NS_SAMPLE_ID: Final = f"{ALLFHIR}/NamingSystem/sample-id"
NS_ORDER_ID: Final = f"{ALLFHIR}/NamingSystem/order-id"
NS_DEVICE: Final = f"{ALLFHIR}/NamingSystem/classifier"
PROFILE_SUBTYPE_IMPLICATION: Final = f"{ALLFHIR}/StructureDefinition/bcp-all-subtype-implication"
PROFILE_EXPRESSION_SIGNATURE: Final = f"{ALLFHIR}/StructureDefinition/bcp-all-expression-signature"
EXT_CLASSIFIER_PROBABILITY: Final = f"{ALLFHIR}/StructureDefinition/classifier-probability"

# Codes of CS_ALLFHIR (each is defined, with a definition, in profiles/input/fsh/).
C_EXPRESSION_SIGNATURE: Final = "expression-subtype-signature"
C_CLASSIFIER_PROBABILITY: Final = "classifier-probability"
C_CLASSIFIER_SCORE: Final = "classifier-score"
C_CLASSIFIER_CONFIDENCE: Final = "classifier-confidence"
C_CHROMOSOME_COUNT: Final = "chromosome-count"
C_JUNCTION_READS: Final = "fusion-junction-reads"
C_SPANNING_READS: Final = "fusion-spanning-reads"
C_CALLER_CONFIDENCE: Final = "caller-confidence"
C_READING_FRAME: Final = "fusion-reading-frame"
C_THERAPEUTIC_SETTING: Final = "therapeutic-setting"
C_CALL_BASIS: Final = "call-basis"
C_WHO_HAEM5_ENTITY: Final = "who-haem5-entity"
C_ICC_2022_ENTITY: Final = "icc-2022-entity"
C_LABEL_SCORE: Final = "label-score"
C_CLASSIFIER_THRESHOLD: Final = "classifier-threshold"
# Exchange (service/allfhir/exchange/): message events and the Endpoint payload types we define.
C_GENOMIC_REPORT_ISSUED: Final = "genomic-report-issued"
C_CLASSIFIER_OUTPUT_SUBMITTED: Final = "classifier-output-submitted"
C_PAYLOAD_TRANSACTION: Final = "genomic-report-transaction"
C_PAYLOAD_MESSAGE: Final = "genomic-report-message"
C_PAYLOAD_HL7V2: Final = "genomic-report-hl7v2"
EXT_ENDPOINT_DELIVERY: Final = f"{ALLFHIR}/StructureDefinition/endpoint-delivery"
# The values of a call basis (ValueSet CallBasis in profiles/input/fsh/Profiles.fsh).
CALL_BASIS_DISPLAY: Final = {
    "driver-confirmed": "Expression class confirmed by its defining driver",
    "expression-only": "Expression class only; no defining driver submitted or detected",
    "driver-only": "Defining driver without a supporting expression call",
    "discordant": "Expression class and driver point to different subtypes",
    "dual-driver": "Two subtype-defining drivers in one sample",
}
ALLFHIR_CODE_DISPLAY: Final = {
    C_EXPRESSION_SIGNATURE: "BCP-ALL gene-expression subtype signature",
    C_CLASSIFIER_PROBABILITY: "Classifier probability",
    C_CLASSIFIER_SCORE: "Classifier score",
    C_CLASSIFIER_CONFIDENCE: "Classifier confidence",
    C_CHROMOSOME_COUNT: "Modal chromosome number",
    C_JUNCTION_READS: "Fusion junction (split) reads",
    C_SPANNING_READS: "Fusion spanning fragments",
    C_CALLER_CONFIDENCE: "Caller confidence",
    C_READING_FRAME: "Fusion reading frame",
    C_THERAPEUTIC_SETTING: "Therapeutic setting",
    C_CALL_BASIS: "Call basis",
    C_WHO_HAEM5_ENTITY: "WHO-HAEM5 entity",
    C_ICC_2022_ENTITY: "ICC 2022 entity",
    C_LABEL_SCORE: "Classifier score of one label",
    C_CLASSIFIER_THRESHOLD: "Classifier call threshold",
    **CALL_BASIS_DISPLAY,
    C_GENOMIC_REPORT_ISSUED: "Genomic report issued",
    C_CLASSIFIER_OUTPUT_SUBMITTED: "Classifier output submitted",
    C_PAYLOAD_TRANSACTION: "Genomic report as a FHIR transaction",
    C_PAYLOAD_MESSAGE: "Genomic report as a FHIR message",
    C_PAYLOAD_HL7V2: "Genomic report as an HL7 v2 ORU^R01 message",
}
