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
* insert ConvertIn(assembly, 0, 1, code, [[GRCh37 or GRCh38: the reference assembly of fusion-caller breakpoints (Arriba, STAR-Fusion), which their files do not name; VCFs name theirs.]])
* insert ConvertIn(presented-form, 0, 1, code, [[pdf: each DiagnosticReport also embeds the rendered report as application/pdf in presentedForm, beside the HTML.]])
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
