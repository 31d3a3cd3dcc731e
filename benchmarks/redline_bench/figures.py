"""Figures (repeated measurements), their medians and ratios to the floor, and markdown tables.

Pure: no Docker, no Inspect. Everything here works on plain values or on the results JSON, so
that the results file, the docs page and the tests share one renderer.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def median(values: Sequence[float]) -> float | None:
    """The median, or None without values."""
    return statistics.median(values) if values else None


def ratio(value: float | None, floor: float | None) -> float | None:
    """`value / floor`, or None when either is missing or the floor is not positive."""
    if value is None or floor is None or floor <= 0:
        return None
    return value / floor


@dataclass
class Figure:
    """One measured quantity: repeated values, and the floor's values for the same quantity."""

    section: str
    name: str
    unit: str
    values: list[float]
    floor: list[float] | None = None
    """The floor task's values of the same quantity, when the floor has it."""
    target: float | None = None
    """Upper bound for the median."""
    ratio_target: float | None = None
    """Upper bound for the ratio of the medians (ours / floor)."""
    exact: bool = False
    """Read, not sampled (an image size): no spread."""
    higher_is_better: bool = False
    """Throughput: targets are lower bounds."""
    runs: list[str] = field(default_factory=list)
    """What each value came from (for the JSON only)."""

    @property
    def median(self) -> float | None:
        return median(self.values)

    @property
    def floor_median(self) -> float | None:
        return median(self.floor or [])

    @property
    def ratio(self) -> float | None:
        return ratio(self.median, self.floor_median)

    @property
    def verdict(self) -> str:
        checks = [(self.median, self.target), (self.ratio, self.ratio_target)]
        checks = [(value, bound) for value, bound in checks if bound is not None]
        if not checks:
            return ""
        if any(value is None for value, _ in checks):
            return "NO DATA"
        ok = all(
            (value >= bound) if self.higher_is_better else (value <= bound)  # type: ignore[operator]
            for value, bound in checks
        )
        return "PASS" if ok else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "median": self.median,
            "floor_median": self.floor_median,
            "ratio": self.ratio,
            "verdict": self.verdict or None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figure:
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names})


def fmt(value: float | None, unit: str) -> str:
    """A value with its unit, with as many digits as the unit deserves."""
    if value is None:
        return "-"
    digits = {"MB": 0 if abs(value) >= 10 else 1, "/min": 1, "x": 2}.get(unit, 2)
    return f"{value:.{digits}f} {unit}" if unit != "x" else f"{value:.{digits}f}x"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table, columns padded to their widest cell."""
    cells = [list(header), *[list(row) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


FIGURE_HEADER = ("metric", "median", "min", "max", "n", "floor", "ratio", "target", "result")


def figure_row(figure: Figure) -> list[str]:
    values = figure.values
    lo, hi = (min(values), max(values)) if values else (None, None)
    spread = ["", ""] if figure.exact else [fmt(lo, figure.unit), fmt(hi, figure.unit)]
    bound = ">=" if figure.higher_is_better else "<="
    targets = []
    if figure.target is not None:
        targets.append(f"{bound} {figure.target:g} {figure.unit}")
    if figure.ratio_target is not None:
        targets.append(f"ratio {bound} {figure.ratio_target:g}x")
    return [
        figure.name,
        fmt(figure.median, figure.unit),
        *spread,
        "exact" if figure.exact else str(len(values)),
        "" if figure.floor is None else fmt(figure.floor_median, figure.unit),
        "" if figure.floor is None else fmt(figure.ratio, "x"),
        ", ".join(targets),
        figure.verdict,
    ]


def figure_tables(figures: Sequence[Figure]) -> str:
    """One table per section, in the order the sections first appear."""
    sections = list(dict.fromkeys(f.section for f in figures))
    parts = []
    for section in sections:
        rows = [figure_row(f) for f in figures if f.section == section]
        parts += [f"### {section}", "", markdown_table(FIGURE_HEADER, rows), ""]
    return "\n".join(parts).rstrip()


def breakdown_table(
    parts: Sequence[str], by_task: Mapping[str, Mapping[str, Sequence[float]]], floor: str
) -> str:
    """Median seconds of each part (rows) for each task (columns), the floor first, and how
    much more each task spends than the floor on its end-to-end (last row: the ratio)."""
    tasks = [floor, *[t for t in by_task if t != floor]] if floor in by_task else list(by_task)

    def med(task: str, part: str) -> float | None:
        return median(by_task[task].get(part, []))

    rows = [[part, *[fmt(med(t, part), "s") for t in tasks]] for part in parts]
    rows.append(
        [
            "end-to-end / floor",
            *[fmt(ratio(med(t, "end-to-end"), med(floor, "end-to-end")), "x") for t in tasks],
        ]
    )
    counts = [str(len(by_task[t].get("end-to-end", []))) for t in tasks]
    rows.append(["samples", *counts])
    return markdown_table(["part (median)", *tasks], rows)


def beyond_floor(
    parts: Sequence[str],
    task: Mapping[str, Sequence[float]],
    floor: Mapping[str, Sequence[float]],
    at_least: float = 0.01,
) -> list[tuple[str, float]]:
    """Where a task's median time goes beyond the floor's: (part, extra seconds), largest first,
    only parts that cost at least `at_least` seconds more than the floor's."""
    extra = []
    for part in parts:
        ours, base = median(task.get(part, [])), median(floor.get(part, [])) or 0.0
        if ours is not None and ours - base >= at_least:
            extra.append((part, ours - base))
    return sorted(extra, key=lambda item: -item[1])
