"""Exchange with hospital systems: reports delivered to Endpoints through the outbox (the work
queue's `deliver` jobs, queued in the transaction that stores the report), FHIR messaging in
and out. See README.md."""
