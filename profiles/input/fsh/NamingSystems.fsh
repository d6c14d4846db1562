// Identifier namespaces the converter uses (service/allfhir/codes.py NS_*).

RuleSet: AllfhirNamingSystem(name, description, uri)
* name = "{name}"
* status = #active
* kind = #identifier
* date = "2025-01-01"
* description = "{description}"
* uniqueId[0].type = #uri
* uniqueId[=].value = "{uri}"
* uniqueId[=].preferred = true

Instance: report-id
InstanceOf: NamingSystem
Usage: #definition
* insert AllfhirNamingSystem(AllfhirReportId, Identifier of a GenomicReport the converter builds, https://allfhir.org/fhir/NamingSystem/report-id)

Instance: resource-id
InstanceOf: NamingSystem
Usage: #definition
* insert AllfhirNamingSystem(AllfhirResourceId, Deterministic identifier of any resource the converter builds - a UUID v5 of its content key, https://allfhir.org/fhir/NamingSystem/resource-id)

Instance: sample-id
InstanceOf: NamingSystem
Usage: #definition
* insert AllfhirNamingSystem(AllfhirSampleId, Sample identifier as written by the classifier or caller output, https://allfhir.org/fhir/NamingSystem/sample-id)

Instance: classifier
InstanceOf: NamingSystem
Usage: #definition
* insert AllfhirNamingSystem(AllfhirClassifier, Identifier of the classifier or caller - a Device - that produced a result, https://allfhir.org/fhir/NamingSystem/classifier)

Instance: order-id
InstanceOf: NamingSystem
Usage: #definition
* insert AllfhirNamingSystem(AllfhirOrderId, Order number - a ServiceRequest identifier - when the caller gives no system of its own, https://allfhir.org/fhir/NamingSystem/order-id)
