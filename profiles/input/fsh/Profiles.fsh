// Hand-written profiles on the Genomics Reporting IG 3.0.0 for what the converter emits
// (service/allfhir/fhir/subtype.py). Terminology lives in generated/ (from mappings/).

Alias: $LNC = http://loinc.org
Alias: $UCUM = http://unitsofmeasure.org
Alias: $DiagnosticImplication = http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/diagnostic-implication
Alias: $MolecularBiomarker = http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/molecular-biomarker

Profile: BcpAllSubtypeImplication
Parent: $DiagnosticImplication
Id: bcp-all-subtype-implication
Title: "BCP-ALL subtype implication"
Description: "The BCP-ALL subtype a classifier (ALLSorts, ALLCatchR, MD-ALL...) or a defining fusion implies for a sample: a Diagnostic Implication whose predicted phenotype carries a code of the bcp-all-subtype CodeSystem, optionally with the classifier's probability."
* ^status = #active
* ^experimental = false
* component[predicted-phenotype] 1..1
* component[predicted-phenotype].value[x] only CodeableConcept
* component[predicted-phenotype].valueCodeableConcept from BcpAllSubtypes (required)
* component[predicted-phenotype].valueCodeableConcept.coding 1..*
* component[predicted-phenotype].valueCodeableConcept.coding ^slicing.discriminator.type = #pattern
* component[predicted-phenotype].valueCodeableConcept.coding ^slicing.discriminator.path = "system"
* component[predicted-phenotype].valueCodeableConcept.coding ^slicing.rules = #open
* component[predicted-phenotype].valueCodeableConcept.coding ^slicing.description = "Our subtype code first; SNOMED CT / NCIt / ICD-O-3 / OncoTree / ICD-10-CM codings may follow."
* component[predicted-phenotype].valueCodeableConcept.coding contains subtype 1..1 MS
* component[predicted-phenotype].valueCodeableConcept.coding[subtype].system 1..1
* component[predicted-phenotype].valueCodeableConcept.coding[subtype].system = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
* component[predicted-phenotype].valueCodeableConcept.coding[subtype].code 1..1
* component[predicted-phenotype].valueCodeableConcept.coding[subtype] from BcpAllSubtypes (required)
* component contains classifier-probability 0..1 MS
* component[classifier-probability] ^short = "Probability the classifier reports for this call"
* component[classifier-probability].code = AllfhirCodes#classifier-probability
* component[classifier-probability].value[x] 1..1
* component[classifier-probability].value[x] only Quantity
* component[classifier-probability].valueQuantity.value 1..1
* component[classifier-probability].valueQuantity.system = $UCUM
* component[classifier-probability].valueQuantity.code = #1
* component contains call-basis 0..1 MS
* component[call-basis] ^short = "What the call rests on: expression class, defining driver, both, or neither in agreement"
* component[call-basis].code = AllfhirCodes#call-basis
* component[call-basis].value[x] 1..1
* component[call-basis].value[x] only CodeableConcept
* component[call-basis].valueCodeableConcept from CallBasis (required)

Profile: BcpAllExpressionSignature
Parent: $MolecularBiomarker
Id: bcp-all-expression-signature
Title: "BCP-ALL expression subtype signature"
Description: "The label a gene-expression classifier gave a sample, with the classifier's score for the call and its score for every label it scored (so a reader sees how close the other labels came)."
* ^status = #active
* ^experimental = false
* code = AllfhirCodes#expression-subtype-signature
* value[x] only CodeableConcept
* valueCodeableConcept.text 1..1
* valueCodeableConcept.text ^short = "The label exactly as the classifier wrote it"
* component contains classifier-threshold 0..1 MS
* component[classifier-threshold] ^short = "The score a label must exceed to be called, where the classifier has one cut-off for every label"
* component[classifier-threshold].code = AllfhirCodes#classifier-threshold
* component[classifier-threshold].value[x] 1..1
* component[classifier-threshold].value[x] only Quantity
* component[classifier-threshold].valueQuantity.value 1..1
* component[classifier-threshold].valueQuantity.system = $UCUM
* component[classifier-threshold].valueQuantity.code = #1
* component contains label-score 0..* MS
* component[label-score] ^short = "The classifier's score for one label it scored, called or not"
* component[label-score].code = AllfhirCodes#label-score
* component[label-score].code.text 1..1
* component[label-score].code.text ^short = "The label exactly as the classifier wrote it (column name or label)"
* component[label-score].value[x] 1..1
* component[label-score].value[x] only Quantity
* component[label-score].valueQuantity.value 1..1
* component[label-score].valueQuantity.system = $UCUM
* component[label-score].valueQuantity.code = #1

ValueSet: CallBasis
Id: call-basis
Title: "BCP-ALL call basis"
Description: "What an integrated BCP-ALL subtype call rests on (service/allfhir/integrate.py)."
* ^url = "https://allfhir.org/fhir/ValueSet/call-basis"
* ^status = #active
* ^experimental = false
* AllfhirCodes#driver-confirmed
* AllfhirCodes#expression-only
* AllfhirCodes#driver-only
* AllfhirCodes#discordant
* AllfhirCodes#dual-driver
