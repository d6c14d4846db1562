"""fhir/templates: a cohort's reports from one template per shape are the builder's bytes, for
every classifier's samples and option set, and a template that would say anything else is never
used."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.convert import _worked_out, convert
from allfhir.fhir import bundle, subtype, templates
from allfhir.fhir.bundle import BuildOptions
from allfhir.fhir.common import IdSystems
from allfhir.fhir.templates import Templates, shape
from allfhir.ingest.source import Source
from allfhir.knowledge import Knowledge
from allfhir.model import Fusion, Sample

from .conftest import DATA, REPO

FILES = sorted(p for p in (DATA / "classifiers").iterdir() if p.suffix != ".md")
FILES.append(REPO / "examples" / "allsorts" / "probabilities.csv")
OPTIONS = {
    "default": BuildOptions(),
    "transaction, patient, order, specimen, dated": BuildOptions(
        bundle_type="transaction", patient="Patient/p1", order="ORD-1", effective="2026-03-01",
        specimen="http://lab.example/specimen|SP-1", assembly="GRCh38"),
    "no actionability, reviewed, the lab's systems": BuildOptions(
        actionability=False, reviewed=True,
        systems=IdSystems(sample="urn:lab:sample", report="urn:lab:report",
                          resource="urn:lab:resource", order="urn:lab:order")),
}


def _samples(path: Path) -> list[Sample]:
    source = Source(path)
    try:
        items = list(ingest.read(source, ingest.detect_format(source)))
    finally:
        source.close()
    samples = [s for s in items if isinstance(s, Sample)]
    assert samples, path
    return samples


def _variants(sample: Sample, n: int, rng: random.Random, ids: Iterator[str]) -> list[Sample]:
    """`n` samples of `sample`'s shape with other ids and values (a call keeps its label's score
    as its probability, as the classifiers report it)."""
    out = []
    for _ in range(n):
        scores = {label: rng.choice([rng.random(), round(rng.random(), 3), 0.0, 1.0, 1e-4])
                  for label in sample.scores}
        calls = [c.model_copy(update={
            "probability": None if c.probability is None else scores.get(c.label, rng.random()),
            "threshold": None if c.threshold is None else rng.random()}) for c in sample.calls]
        out.append(sample.model_copy(update={"sample_id": next(ids), "scores": scores,
                                             "calls": calls}))
    return out


def _both(samples: list[Sample], kb: Knowledge, opts: BuildOptions) -> tuple[Templates, list[bytes]]:
    """Each sample's text through one Templates, each compared with the builder's."""
    made = Templates(_worked_out)
    texts = []
    for s in samples:
        text = made.text(s, kb, opts)
        assert text == bundle.build_json(*_worked_out(s, kb, opts)), s.sample_id
        texts.append(text)
    return made, texts


@pytest.mark.parametrize("opts", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_classifiers_reports_are_the_builders_bytes(path: Path, opts: BuildOptions,
                                                          kb: Knowledge) -> None:
    rng = random.Random(path.name)
    ids = (f"S-{i}.{rng.randrange(10**6)}_x" for i in range(10**6))
    bases = _samples(path)
    made, _ = _both([v for s in bases for v in _variants(s, 4, rng, ids)], kb, opts)
    # the third and fourth report of each shape come from its template (a sample with findings
    # has none)
    shaped = [s for s in bases if shape(s) is not None]
    assert made.rendered >= 2 * len(shaped) and made.shapes >= (1 if shaped else 0)


def test_the_cli_path_uses_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cohort = tmp_path / "probabilities.csv"
    rows = [f"S{i},{i / 10},{1 - i / 10},{'Ph' if i % 2 else 'DUX4'}" for i in range(1, 9)]
    cohort.write_text(",Ph,DUX4,Pred\n" + "\n".join(rows) + "\n", encoding="utf-8")
    rendered = []
    render = templates.Template.render
    monkeypatch.setattr(templates.Template, "render",
                        lambda self, *args: rendered.append(args[0]) or render(self, *args))
    texts = list(convert([cohort], "allsorts", as_json=True))
    dicts = list(convert([cohort], "allsorts"))
    assert [bundle.dumps_bytes(d) for d in dicts] == texts  # type: ignore[arg-type]
    # each shape's first two reports from the builder; the second's is also rendered from the
    # new template, which must give it before it is used
    assert rendered == ["S3", "S4", "S5", "S6", "S7", "S8"]
    assert b'"value":"allsorts:S8"' in texts[7] and b'"value":0.8' in texts[7]


def test_values_a_template_cannot_spell_take_the_builder(kb: Knowledge) -> None:
    """A score below 1e-4 (orjson and the stdlib spell it differently) and sample ids that JSON
    or HTML escape: every such report from the builder, the others from the template."""
    base = _samples(REPO / "examples" / "allsorts" / "probabilities.csv")[0]
    rng = random.Random(3)
    plain = _variants(base, 3, rng, iter(["P1", "P2", "P3"]))
    tiny = [s.model_copy(update={"scores": {**s.scores, next(iter(s.scores)): 3e-05}})
            for s in _variants(base, 3, rng, iter(["T1", "T2", "T3"]))]
    odd = _variants(base, 4, rng, iter(["S&1", 'S"2', "Ü3", "S 4"]))
    made, texts = _both([*plain, *tiny, *odd], kb, BuildOptions())
    assert made.rendered == 1  # P3 only
    assert b"3e-05" in texts[3] and "Ü3".encode() in texts[8]


def _computing(monkeypatch: pytest.MonkeyPatch, extra) -> None:  # type: ignore[no-untyped-def]
    """The builder's call support with one more component, worked out by `extra` from the call."""
    support = subtype._support

    def changed(call):  # type: ignore[no-untyped-def]
        out = support(call)
        value = extra(call)
        if value is not None:
            out.append({"code": {"text": "computed"}, "valueString": value})
        return out

    monkeypatch.setattr(subtype, "_support", changed)


@pytest.mark.parametrize("extra", [
    lambda call: f"{round(call.probability * 100)} %",  # a value computed from a slot
    lambda call: "high" if call.probability > 0.5 else None,  # a branch on one
    lambda call: "low" if call.probability <= 0.5 else None,  # the branch's other side
    # a cut-off none of the samples it is checked with crosses
    lambda call: "tiny" if call.probability < 0.05 else None,
    lambda call: f"{1 / call.probability:.1f}",  # a stand-in's value stops the build
], ids=["computed", "branch-above", "branch-below", "cut-off-not-crossed", "divided-by"])
def test_a_template_that_would_say_otherwise_is_never_used(monkeypatch: pytest.MonkeyPatch,
                                                           extra, kb: Knowledge) -> None:  # type: ignore[no-untyped-def]
    _computing(monkeypatch, extra)
    base = _samples(REPO / "examples" / "allsorts" / "probabilities.csv")[0]
    label = base.calls[0].label
    samples = [base.model_copy(update={
        "sample_id": f"S{i}", "scores": {**base.scores, label: p},
        "calls": [base.calls[0].model_copy(update={"probability": p})]})
        for i, p in enumerate([0.9, 0.95, 0.2, 0.3, 0.97])]
    made, _ = _both(samples, kb, BuildOptions())
    assert made.rendered == 0 and made.shapes == 0


def test_a_value_only_formatted_or_copied_keeps_its_template(monkeypatch: pytest.MonkeyPatch,
                                                             kb: Knowledge) -> None:
    """The other side of the test above: the same extra component, formatting the value only."""
    _computing(monkeypatch, lambda call: f"p={call.probability:.2f}")
    base = _samples(REPO / "examples" / "allsorts" / "probabilities.csv")[0]
    made, texts = _both(_variants(base, 4, random.Random(5), iter("ABCD")), kb, BuildOptions())
    assert made.rendered == 2 and made.shapes == 1
    assert b'"valueString":"p=' in texts[3]


def test_shapes_are_bounded(monkeypatch: pytest.MonkeyPatch, kb: Knowledge) -> None:
    monkeypatch.setattr(templates, "MAX_SHAPES", 2)
    rng = random.Random(11)
    labels = iter(f"L{i}" for i in range(100))
    samples = [v for s in _samples(DATA / "classifiers" / "allsorts-comparisons.csv")[:6]
               for v in _variants(s, 3, rng, labels)]
    made, _ = _both(samples, kb, BuildOptions())
    assert made.shapes == 2 and len(made._templates) == 2


def test_a_sample_with_findings_has_no_shape(kb: Knowledge) -> None:
    base = _samples(REPO / "examples" / "allsorts" / "probabilities.csv")[0]
    fusion = Fusion(gene5="BCR", gene3="ABL1")
    assert shape(base) is not None
    assert shape(base.model_copy(update={"fusions": [fusion]})) is None
    assert shape(base.model_copy(update={"sample_id": "other", "scores": {
        k: 0.5 for k in base.scores}})) == shape(base)
    assert shape(base.model_copy(update={"comments": ["a comment"]})) != shape(base)
