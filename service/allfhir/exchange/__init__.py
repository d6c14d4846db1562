"""Exchange with hospital systems: reports delivered to Endpoints through the outbox (the work
queue's `deliver` jobs, queued in the transaction that stores the report), FHIR messaging in
and out, and HL7 v2.5.1 ORU^R01 (`v2_message`) over MLLP (`mllp`). See README.md."""
