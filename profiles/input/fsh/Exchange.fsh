// Hand-written: what service/allfhir/exchange/ reads from an Endpoint besides the core elements
// (address, connectionType, payloadType, status). The codes it names are in generated/ (allfhir-codes).

Extension: EndpointDelivery
Id: endpoint-delivery
Title: "Endpoint delivery settings"
Description: "How allfhir delivers genomic reports to this Endpoint: authentication, timeouts and which reports go there. A secret (API key or OAuth2 client secret) given here is stored apart from the Endpoint and never returned."
Context: Endpoint
* ^status = #active
* ^experimental = false
* extension contains
    auth 1..1 MS and
    api-key-header 0..1 and
    token-url 0..1 and
    client-id 0..1 and
    scope 0..1 and
    secret 0..1 and
    connect-timeout 0..1 and
    read-timeout 0..1 and
    filter 0..1
* extension[auth] ^short = "none | api-key | oauth2-client-credentials"
* extension[auth].value[x] only code
* extension[api-key-header] ^short = "Header carrying the API key (default X-API-Key)"
* extension[api-key-header].value[x] only string
* extension[token-url] ^short = "OAuth2 token endpoint (client-credentials grant)"
* extension[token-url].value[x] only url
* extension[client-id] ^short = "OAuth2 client id"
* extension[client-id].value[x] only string
* extension[scope] ^short = "OAuth2 scopes requested, space separated"
* extension[scope].value[x] only string
* extension[secret] ^short = "API key or OAuth2 client secret: write only, never returned"
* extension[secret].value[x] only string
* extension[connect-timeout] ^short = "Seconds to wait for the connection (default 5)"
* extension[connect-timeout].value[x] only decimal
* extension[read-timeout] ^short = "Seconds to wait for the answer (default 30)"
* extension[read-timeout].value[x] only decimal
* extension[filter] ^short = "Which reports go here: a search on a resource type of the report, e.g. DiagnosticReport?status=final"
* extension[filter].value[x] only string
