// The operations this server defines (service/allfhir/api/conversion.py), listed by canonical URL
// in the CapabilityStatement (api/capability.py). $validate, $translate and $lookup are FHIR's own.

RuleSet: ConvertIn(name, min, max, type, documentation)
* parameter[+].name = #{name}
* parameter[=].use = #in
* parameter[=].min = {min}
* parameter[=].max = "{max}"
* parameter[=].type = #{type}
* parameter[=].documentation = "{documentation}"

Instance: convert
InstanceOf: OperationDefinition
Usage: #definition
* url = "https://allfhir.org/fhir/OperationDefinition/convert"
* name = "Convert"
* title = "Convert BCP-ALL classifier output into genomic reports"
* status = #draft
* kind = #operation
* date = "2026-12-01"
* publisher = "allfhir"
* description = "Converts a molecular classifier's output (with its fusion and VCF companion files) into one Genomics Reporting IG 3.0.0 report Bundle per sample, and stores every report before answering. The body is the classifier file itself (text/csv, text/tab-separated-values), multipart/form-data with the classifier file and its companions, the generic JSON (application/json), or this Parameters resource; the other parameters may also be given in the query string (once, not in both). A changed submission for a stored report makes a new version (status amended); If-Match with the version read guards it (412 when stale). With Accept: application/fhir+ndjson the answer is the report Bundles one per line."
* affectsState = true
* code = #convert
* system = true
* type = false
* instance = false
* insert ConvertIn(file, 1, *, Attachment, [[The classifier file, then its companion files (fusion caller output, VCF): base64 data, title = the file name, contentType. A url is not fetched.]])
* insert ConvertIn(format, 0, 1, code, [[The input format, as `allfhir formats` lists it; detected per file when absent.]])
* insert ConvertIn(patient, 0, 1, string, [[The subject: Patient/123 or system|value (valueReference is read as well). The input's own patient wins.]])
* insert ConvertIn(sample, 0, 1, string, [[The sample id, for files that do not name their sample.]])
* insert ConvertIn(specimen, 0, 1, string, [[The specimen of the report and its findings: Specimen/123 or system|value (valueReference is read as well). Default: the sample id in the lab's sample-id system; the input's own specimen wins.]])
* insert ConvertIn(order, 0, 1, string, [[The order's identifier, system|value or a value in the lab's order-id system (valueIdentifier is read as well): the basedOn of the report and its findings, a logical reference to the ServiceRequest.]])
* insert ConvertIn(effective, 0, 1, dateTime, [[When the results were obtained (effectiveDateTime); omitted when absent.]])
* insert ConvertIn(bundle-type, 0, 1, code, [[collection (default) or transaction: conditional creates on each resource's identifier.]])
* insert ConvertIn(actionability, 0, 1, boolean, [[false leaves out therapeutic implications, trials and recommendation Tasks (default true).]])
* insert ConvertIn(presented-form, 0, 1, code, [[pdf: each DiagnosticReport also embeds the rendered report as application/pdf in presentedForm, beside the HTML.]])
* insert ConvertIn(assembly, 0, 1, code, [[GRCh37 or GRCh38: the reference assembly of fusion-caller breakpoints (Arriba, STAR-Fusion), which their files do not name; VCFs name theirs.]])
* parameter[+].name = #report
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "*"
* parameter[=].type = #Bundle
* parameter[=].documentation = "One report Bundle per converted sample, as stored (meta.versionId, status amended for a later version)."
* parameter[+].name = #outcome
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "1"
* parameter[=].type = #OperationOutcome
* parameter[=].documentation = "The rows that were refused, with file, line and column. When no sample converted, the answer is this OperationOutcome alone, with status 422."

RuleSet: DeliveryPart(name, min, type, documentation)
* parameter[=].part[+].name = #{name}
* parameter[=].part[=].use = #out
* parameter[=].part[=].min = {min}
* parameter[=].part[=].max = "1"
* parameter[=].part[=].type = #{type}
* parameter[=].part[=].documentation = "{documentation}"

RuleSet: DeliveryParts
* insert DeliveryPart(endpoint, 1, Reference, [[The Endpoint delivered to.]])
* insert DeliveryPart(version, 1, string, [[The report version (versionId) this delivery carries.]])
* insert DeliveryPart(state, 1, code, [[queued | running | done | failed.]])
* insert DeliveryPart(attempts, 1, integer, [[Attempts made so far.]])
* insert DeliveryPart(updated, 1, instant, [[When the delivery last changed.]])
* insert DeliveryPart(nextAttempt, 0, instant, [[When a queued delivery is due again.]])
* insert DeliveryPart(lastError, 0, string, [[Why the last attempt did not land (the receiver's message for a refusal).]])
* insert DeliveryPart(response, 0, string, [[The receiver's answer (an OperationOutcome or transaction-response as a resource, or its text).]])
* insert DeliveryPart(created, 0, integer, [[Resources the receiver created.]])
* insert DeliveryPart(existing, 0, integer, [[Resources the receiver already held (conditional creates that matched).]])
* insert DeliveryPart(location, 0, string, [[Where the report landed on the receiver.]])

Instance: render
InstanceOf: OperationDefinition
Usage: #definition
* url = "https://allfhir.org/fhir/OperationDefinition/render"
* name = "Render"
* title = "The stored report as people read it (HTML or PDF)"
* status = #draft
* kind = #operation
* date = "2026-12-01"
* publisher = "allfhir"
* description = "Renders a stored DiagnosticReport and every resource it references as the clinical report (service/allfhir/report): HTML, or PDF laid out from the same page. The answer is the document itself (text/html or application/pdf), not a FHIR resource; the key needs read scope on each type the page shows."
* affectsState = false
* code = #render
* resource[0] = #DiagnosticReport
* system = false
* type = false
* instance = true
* insert ConvertIn(format, 0, 1, code, [[html (default) or pdf.]])

Instance: delivery-status
InstanceOf: OperationDefinition
Usage: #definition
* url = "https://allfhir.org/fhir/OperationDefinition/delivery-status"
* name = "DeliveryStatus"
* title = "Where a stored report's deliveries to receiving systems stand"
* status = #draft
* kind = #operation
* date = "2026-12-01"
* publisher = "allfhir"
* description = "One delivery part per Endpoint and report version: state (queued, running, done, failed), attempts, the last error, the next attempt, and the receiver's answer once it confirmed (service/allfhir/exchange/status.py)."
* affectsState = false
* code = #delivery-status
* resource[0] = #DiagnosticReport
* system = false
* type = false
* instance = true
* parameter[+].name = #delivery
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "*"
* parameter[=].documentation = "One delivery of one report version to one Endpoint, its state and history as parts."
* insert DeliveryParts

Instance: retry
InstanceOf: OperationDefinition
Usage: #definition
* url = "https://allfhir.org/fhir/OperationDefinition/retry"
* name = "Retry"
* title = "Send a stored report's failed deliveries again"
* status = #draft
* kind = #operation
* date = "2026-12-01"
* publisher = "allfhir"
* description = "Re-queues every failed (dead-lettered) delivery of the report; deliveries the receiver confirmed are never sent again. Answers as $delivery-status does."
* affectsState = true
* code = #retry
* resource[0] = #DiagnosticReport
* system = false
* type = false
* instance = true
* parameter[+].name = #delivery
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "*"
* parameter[=].documentation = "The report's deliveries after the re-queue."
* insert DeliveryParts
