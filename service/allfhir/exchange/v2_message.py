"""A converted report Bundle -> HL7 v2.5.1 ORU^R01, in the HL7 v2 Clinical Genomics fully
LOINC-qualified genetic variation model.

Layout of one message (segments separated by \\r):

    MSH  sender / receiver, ORU^R01^ORU_R01, control id, P, 2.5.1, UNICODE UTF-8
    PID  the report's subject (only when the report has one)
    ORC  RE, placer order number (the report's basedOn identifier), filler order number (the report)
    OBR  51969-4 Genetic analysis report, the same order numbers, dates, result status
    NTE  the report's conclusion: the sentence a clinician reads (one NTE per line)
    OBX  one group per finding (DiagnosticReport.result, in order), OBX-4 = the group's sub-ID:
         the finding's own code and value, then one OBX per component (48018-6 gene, 48004-6
         c.HGVS, 48005-3 p.HGVS, 81258-6 allele frequency, 81259-4 subtype, the probability as
         NM, 51963-7 medication, 93044-6 evidence level, ...), each with its FHIR value type
    NTE  an Observation's notes, after its group

The message is built with hl7apy and validated against its v2.5.1 structure (STRICT) before it is
returned, so a message that leaves here parses on a conforming receiver. A LOINC that OBX-3 would
carry must have a row (with its source) in mappings/v2_observations.csv, and every code system a
row in mappings/v2_coding_systems.csv: an unmapped one is an InputError naming it, never a guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from hl7apy.base_datatypes import FT
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Group, Message

from .. import codes
from ..errors import InputError, Problem
from .v2_codes import V2Codes, v2_codes

Json = dict[str, Any]

# HL7 table 0123 (OBR-25 result status) and 0085 (OBX-11 observation result status), read in THO
# v2-0123 / v2-0085 (version 2.9): F final, P preliminary, A some results, C corrected, X none.
REPORT_STATUS = {"final": "F", "preliminary": "P", "partial": "A", "amended": "C",
                 "corrected": "C", "appended": "C", "cancelled": "X", "registered": "O"}
RESULT_STATUS = {"final": "F", "preliminary": "P", "amended": "C", "corrected": "C",
                 "cancelled": "X", "entered-in-error": "W", "registered": "I"}
# OBX-5 is read as ST, 199 characters at most, by a STRICT v2.5.1 parser (hl7apy's, whatever
# OBX-2 says): a longer string component goes into an NTE (FT, 65536) of its group, coded in NTE-4.
ST_MAX = 199
# The chart's per-label scores (and the classifier's threshold) stay in the FHIR only: the label
# they score is the component's code.text, which OBX-3 has no place for, so as OBXs they would be
# a list of unlabelled numbers. The call and its probability are OBXs of their own.
CHART_ONLY = frozenset({codes.C_LABEL_SCORE, codes.C_CLASSIFIER_THRESHOLD})
# MSH-10 is ST(20) in v2.5.1.
CONTROL_ID_LENGTH = 20


@dataclass(frozen=True, slots=True)
class Parties:
    """MSH-3..6. The receiving side is the destination's; the defaults suit a file export."""

    sending_application: str = "ALLFHIR"
    sending_facility: str = "LAB"
    receiving_application: str = "EHR"
    receiving_facility: str = "HOSPITAL"


def text(value: str) -> str:
    """A value escaped for ER7 (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\) by hl7apy's own datatype. A line break
    would end the segment, so it becomes a space here (notes keep their lines: one NTE each)."""
    return FT(re.sub(r"\r\n|\r|\n", " ", value)).to_er7()


def v2_datetime(value: str) -> str:
    """FHIR date / dateTime / instant -> v2 DTM (YYYY[MM[DD[HHMM[SS]]]][+/-ZZZZ])."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?"
                         r"(Z|[+-]\d{2}:\d{2})?)?)?)?", value)
    if not match:
        raise InputError(Problem(f"not a FHIR dateTime: {value!r}", code="value"))
    *parts, zone = match.groups()
    out = "".join(p for p in parts if p)
    if zone:
        out += "+0000" if zone == "Z" else zone.replace(":", "")
    return out


class _Coder:
    """Codings -> CWE, with the 0396 names and LOINC rows of mappings/."""

    def __init__(self, table: V2Codes) -> None:
        self.table = table

    def system(self, url: str | None, where: str) -> str:
        try:
            return self.table.systems[url or ""]
        except KeyError:
            raise InputError(Problem(
                f"code system {url!r} has no HL7 table 0396 name in mappings/v2_coding_systems.csv",
                column=where, code="not-supported")) from None

    def coding(self, coding: Json, where: str) -> str:
        return "^".join((text(coding.get("code", "")), text(coding.get("display", "")),
                         self.system(coding.get("system"), where)))

    def cwe(self, concept: Json, where: str) -> str:
        """The first coding, and a second one as CWE-4..6 (the alternate identifier)."""
        codings = concept.get("coding") or []
        return "^".join(self.coding(c, where) for c in codings[:2])

    def observation_code(self, concept: Json, where: str) -> str:
        """OBX-3: a LOINC only when mappings/ lists it (with its source); other systems as coded."""
        coding = (concept.get("coding") or [{}])[0]
        if coding.get("system") == codes.LOINC:
            code = coding.get("code", "")
            if code not in self.table.loinc:
                raise InputError(Problem(
                    f"LOINC {code} has no row in mappings/v2_observations.csv: add it with its "
                    "source before it can go into an OBX", column=where, code="not-supported"))
            display = coding.get("display") or self.table.loinc[code]
            return self.coding({**coding, "display": display}, where)
        display = coding.get("display") or concept.get("text", "")
        return self.coding({**coding, "display": display}, where)


def _value(coder: _Coder, item: Json, where: str) -> tuple[str, str, str] | None:
    """FHIR value[x] -> (OBX-2 value type, OBX-5, OBX-6 units); None when there is no value."""
    if "valueCodeableConcept" in item:
        concept = item["valueCodeableConcept"]
        if concept.get("coding"):
            return "CWE", coder.cwe(concept, where), ""
        return "ST", text(concept.get("text", "")), ""
    if "valueQuantity" in item:
        quantity = item["valueQuantity"]
        units = ""
        if quantity.get("code"):
            system = coder.system(quantity.get("system"), where)
            units = f"{text(quantity['code'])}^{text(quantity.get('unit', quantity['code']))}^{system}"
        return "NM", _number(quantity.get("value")), units
    if "valueInteger" in item:
        return "NM", _number(item["valueInteger"]), ""
    if "valueRange" in item:
        low, high = item["valueRange"].get("low", {}), item["valueRange"].get("high", {})
        return "NR", f"{_number(low.get('value', ''))}^{_number(high.get('value', ''))}", ""
    if "valueString" in item:
        return "ST", text(item["valueString"]), ""
    if "valueDateTime" in item:
        return "DTM", v2_datetime(item["valueDateTime"]), ""
    if "valueBoolean" in item:
        return "ST", "true" if item["valueBoolean"] else "false", ""
    if any(key.startswith("value") for key in item):
        kind = next(key for key in item if key.startswith("value"))
        raise InputError(Problem(f"{kind} has no HL7 v2 value type here", column=where,
                                 code="not-supported"))
    return None


def _number(value: Any) -> str:
    """NM: digits, an optional sign and point, never an exponent (1e-05 -> 0.00001)."""
    if value is None or value == "":
        return ""
    return format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")


def _identifier(identifier: Json) -> str:
    """FHIR Identifier -> EI: value^^system^URI (namespace left empty; the system is the universal id)."""
    value = text(identifier.get("value", ""))
    system = identifier.get("system")
    return f"{value}^^{text(system)}^URI" if system else value


def _patient(subject: Json) -> str:
    """PID-3 (CX) from the report's subject: its identifier, or the id of a literal reference."""
    if "identifier" in subject:
        ident = subject["identifier"]
        system = ident.get("system")
        authority = f"&{text(system)}&URI" if system else ""
        return f"{text(ident.get('value', ''))}^^^{authority}"
    reference = subject.get("reference", "")
    return text(reference.rsplit("/", 1)[-1])


def _control_id(report: Json, results: list[Json]) -> str:
    """MSH-10 from the content: the same report re-sent keeps its id (a receiver can drop the
    duplicate), an amended one gets a new one."""
    digest = hashlib.sha256(orjson.dumps([report, results], option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()[:CONTROL_ID_LENGTH].upper()


def reports(bundle: Json) -> Iterator[tuple[Json, list[Json]]]:
    """Each DiagnosticReport of a Bundle with its result Observations, in `result` order."""
    by_url: dict[str, Json] = {}
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if entry.get("fullUrl"):
            by_url[entry["fullUrl"]] = resource
        if resource.get("id"):
            by_url[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    for entry in bundle.get("entry", []):
        report = entry.get("resource", {})
        if report.get("resourceType") != "DiagnosticReport":
            continue
        results = []
        for ref in report.get("result", []):
            found = by_url.get(ref.get("reference", ""))
            if found is None:
                raise InputError(Problem(f"DiagnosticReport.result {ref.get('reference')!r} is not "
                                         "in the Bundle", column="DiagnosticReport.result",
                                         code="not-found"))
            results.append(found)
        yield report, results


def oru_r01(report: Json, results: list[Json], parties: Parties = Parties(),
            sent_at: str | None = None, table: V2Codes | None = None) -> str:
    """One report -> one ORU^R01 (ER7, segments separated by \\r), validated (v2.5.1, STRICT).

    MSH-7 is `sent_at`, else the report's `issued`, else its effective time, else now (UTC):
    a report with a date gives the same bytes on every export."""
    coder = _Coder(table or v2_codes())
    msg = Message("ORU_R01", version="2.5.1", validation_level=VALIDATION_LEVEL.STRICT)
    when = sent_at or report.get("issued") or report.get("effectiveDateTime")
    msh = msg.msh
    msh.msh_3 = text(parties.sending_application)
    msh.msh_4 = text(parties.sending_facility)
    msh.msh_5 = text(parties.receiving_application)
    msh.msh_6 = text(parties.receiving_facility)
    msh.msh_7 = v2_datetime(when) if when else datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000")
    msh.msh_9 = "ORU^R01^ORU_R01"
    msh.msh_10 = _control_id(report, results)
    msh.msh_11 = "P"  # table 0103: production
    msh.msh_12 = "2.5.1"
    msh.msh_18 = "UNICODE UTF-8"  # table 0211; the MLLP client sends UTF-8

    result_group = msg.add_group("ORU_R01_PATIENT_RESULT")
    if report.get("subject"):
        pid = result_group.add_group("ORU_R01_PATIENT").add_segment("PID")
        pid.pid_1 = "1"
        pid.pid_3 = _patient(report["subject"])
        # PID-5 is required; the report carries no name, so the name type says so (table 0200 U)
        pid.pid_5 = "^^^^^^U"

    order = result_group.add_group("ORU_R01_ORDER_OBSERVATION")
    placer = next((_identifier(b["identifier"]) for b in report.get("basedOn", [])
                   if b.get("identifier")), "")
    filler = _identifier((report.get("identifier") or [{"value": report.get("id", "")}])[0])
    orc = order.add_segment("ORC")
    orc.orc_1 = "RE"  # table 0119: observations to follow
    if placer:
        orc.orc_2 = placer
    orc.orc_3 = filler
    obr = order.add_segment("OBR")
    obr.obr_1 = "1"
    if placer:
        obr.obr_2 = placer
    obr.obr_3 = filler
    obr.obr_4 = coder.observation_code(report.get("code", {}), "DiagnosticReport.code")
    if report.get("effectiveDateTime"):
        obr.obr_7 = v2_datetime(report["effectiveDateTime"])
    if report.get("issued"):
        obr.obr_22 = v2_datetime(report["issued"])
    obr.obr_25 = REPORT_STATUS.get(report.get("status", ""), "F")
    if report.get("conclusion"):
        _notes(order, [("", report["conclusion"])])

    set_id = 0
    for sub_id, observation in enumerate(results, start=1):
        status = RESULT_STATUS.get(observation.get("status", ""), "F")
        effective = observation.get("effectiveDateTime")
        rows: list[tuple[str, tuple[str, str, str]]] = []
        notes: list[tuple[str, str]] = []  # (NTE-4 code, text)
        where = f"Observation/{observation.get('id', sub_id)}"
        own = _value(coder, observation, where)
        if own is not None:
            rows.append((coder.observation_code(observation.get("code", {}), f"{where}.code"), own))
        for i, component in enumerate(observation.get("component", [])):
            if _code_of(component) in CHART_ONLY:
                continue
            at = f"{where}.component[{i}]"
            value = _value(coder, component, at)
            code = coder.observation_code(component.get("code", {}), f"{at}.code")
            if value is not None and len(component.get("valueString", "")) > ST_MAX:
                notes.append((code, component["valueString"]))
            elif value is not None:
                rows.append((code, value))
        last: Group | None = None
        for code, (kind, value, units) in rows:
            set_id += 1
            last = order.add_group("ORU_R01_OBSERVATION")
            obx = last.add_segment("OBX")
            obx.obx_1 = str(set_id)
            obx.obx_2 = kind
            obx.obx_3 = code
            obx.obx_4 = str(sub_id)
            obx.obx_5 = value
            if units:
                obx.obx_6 = units
            obx.obx_11 = status
            if effective:
                obx.obx_14 = v2_datetime(effective)
        notes += [("", note["text"]) for note in observation.get("note", []) if note.get("text")]
        if last is not None:
            _notes(last, notes)
    msg.validate()  # raises on a structure, cardinality, length or format error
    return msg.to_er7()


def _code_of(component: Json) -> str | None:
    codings = component.get("code", {}).get("coding", [])
    return codings[0].get("code") if codings else None


def _notes(group: Group, notes: list[tuple[str, str]]) -> None:
    """One NTE per line of each note (NTE-4: the component the text is the value of, if any)."""
    set_id = 0
    for kind, comment in notes:
        for line in comment.splitlines() or [""]:
            set_id += 1
            nte = group.add_segment("NTE")
            nte.nte_1 = str(set_id)
            nte.nte_2 = "L"  # table 0105: the filler (the lab) is the source of the comment
            nte.nte_3 = text(line)
            if kind:
                nte.nte_4 = kind


def bundle_messages(bundle: Json, parties: Parties = Parties(),
                    sent_at: str | None = None) -> list[str]:
    """The ORU^R01 of every report in a converted Bundle."""
    return [oru_r01(report, results, parties, sent_at) for report, results in reports(bundle)]
