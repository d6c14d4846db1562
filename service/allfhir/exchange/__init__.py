"""Delivery to hospital systems: HL7 v2.5.1 ORU^R01 (`v2_message`) sent over MLLP (`mllp`).
See README.md in this folder."""
