"""The cohort view's numbers, from report summaries: subtype distribution, share unclassified,
distribution of the call probabilities; per classifier and per month. Pure: summaries in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .charts import Bar
from .summary import UNCLASSIFIED, Summary

BINS = 10  # probability histogram: [0, 0.1), [0.1, 0.2) ... [0.9, 1.0]


@dataclass(frozen=True, slots=True)
class Group:
    """The numbers of one selection (all reports, one classifier, or one month)."""

    name: str
    reports: int
    unclassified: int
    with_probability: int

    @property
    def unclassified_share(self) -> float:
        return self.unclassified / self.reports if self.reports else 0.0


def month(s: Summary) -> str:
    return s.date[:7] or "unknown"


def select(summaries: list[Summary], classifier: str = "", in_month: str = "") -> list[Summary]:
    return [s for s in summaries if (not classifier or s.classifier == classifier)
            and (not in_month or month(s) == in_month)]


def group(name: str, summaries: list[Summary]) -> Group:
    return Group(name, len(summaries), sum(s.unclassified for s in summaries),
                 sum(1 for s in summaries if s.call and s.call.probability is not None))


def subtype_bars(summaries: list[Summary]) -> list[Bar]:
    """Reports per leading subtype call, most frequent first; unclassified hatched."""
    counts: Counter[tuple[str, str]] = Counter(
        (s.call.code, s.call.display) if s.call else (UNCLASSIFIED, "Unclassified") for s in summaries)
    total = len(summaries) or 1
    return [Bar(display, n, f"{n} ({n / total:.0%})", marked=code == UNCLASSIFIED)
            for (code, display), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1]))]


def probability_bars(summaries: list[Summary]) -> list[Bar]:
    """Histogram of the leading call's probability (reports whose classifier gave one)."""
    counts = [0] * BINS
    for s in summaries:
        if s.call and s.call.probability is not None:
            counts[min(int(s.call.probability * BINS), BINS - 1)] += 1
    return [Bar(f"{i / BINS:.1f}", n, str(n)) for i, n in enumerate(counts)]


def month_bars(summaries: list[Summary]) -> list[Bar]:
    by_month = Counter(month(s) for s in summaries)
    return [Bar(m, n, str(n)) for m, n in sorted(by_month.items())]


def by(summaries: list[Summary], key: str) -> list[Group]:
    """A Group per classifier (key 'classifier') or per month (key 'month'), in name order."""
    names = sorted({s.classifier if key == "classifier" else month(s) for s in summaries})
    return [group(n, [s for s in summaries if (s.classifier if key == "classifier" else month(s)) == n])
            for n in names]
