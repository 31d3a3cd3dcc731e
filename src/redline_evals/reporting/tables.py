"""The report's tables, built once and rendered as markdown or HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .stats import GroupSummary, Rate

NONE = "—"


@dataclass(frozen=True)
class Table:
    """A titled table with an optional note under it."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        if self.rows:
            lines.append(_md_row(self.headers))
            lines.append("|" + "|".join("---" for _ in self.headers) + "|")
            lines.extend(_md_row(row) for row in self.rows)
            lines.append("")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines).rstrip()

    def html(self) -> str:
        parts = [f"<h2>{html.escape(self.title)}</h2>"]
        if self.rows:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                for row in self.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if self.note:
            parts.append(f"<p>{html.escape(self.note)}</p>")
        return "\n".join(parts)


def report_tables(groups: Sequence[GroupSummary], ks: Sequence[int]) -> list[Table]:
    """Success, milestones, behaviours, and every score key, for every group."""
    return [
        success_table(groups, ks),
        *milestones_tables(groups),
        behaviours_table(groups),
        keys_table(groups),
    ]


def success_table(groups: Sequence[GroupSummary], ks: Sequence[int]) -> Table:
    headers = (
        "task",
        "model",
        "runs",
        "trials",
        "unscored",
        "success key",
        "success",
        "95% CI",
        *(f"pass@{k}" for k in ks),
        "median steps",
        "median tokens",
        "median s to replica",
    )
    rows = tuple(
        (
            g.task,
            g.model,
            str(g.runs),
            str(g.trials),
            str(sum(g.unscored.values())),
            g.success_key,
            rate(g.success),
            interval(g.success),
            *(number(g.pass_at[k]) for k in ks),
            number(g.median_steps, 1),
            number(g.median_tokens, 0),
            number(g.median_seconds_to_replica, 1),
        )
        for g in groups
    )
    unscored = [
        f"{g.task} / {g.model}: " + ", ".join(f"{n} × {why}" for why, n in g.unscored.items())
        for g in groups
        if g.unscored
    ]
    note = (
        "Trials of the same task variant, task version and model are pooled across runs "
        "(`runs`); different task versions never are. "
        "`success` is the share of scored trials with the success key = 1 (successes/scored), "
        "with its 95% Wilson interval; unscored trials are left out, never counted as 0. "
        "pass@k is the unbiased estimator per sample over its scored epochs, averaged over "
        f"samples ({NONE} when a sample has fewer than k). Medians are over all trials; time to "
        "the first replica over the trials that had one."
    )
    mixed: dict[str, dict[str, None]] = {}
    for g in groups:
        if g.versioned:
            mixed.setdefault(g.family, {})[str(g.version)] = None
    if mixed:
        families = "; ".join(f"{f} (versions {', '.join(v)})" for f, v in mixed.items())
        note += (
            f" These logs hold more than one version of {families}: each version has its own "
            "rows, labelled `vN` after the task."
        )
    if unscored:
        note += " Unscored: " + "; ".join(unscored) + "."
    limited = [
        f"{g.task} / {g.model}: " + ", ".join(f"{n} × {kind} limit" for kind, n in g.limits.items())
        for g in groups
        if g.limits
    ]
    if limited:
        note += " Ended by a limit (scored as they stood): " + "; ".join(limited) + "."
    return Table("Success", headers, rows, note)


def milestones_tables(groups: Sequence[GroupSummary]) -> list[Table]:
    """One table per task family whose scores list milestones (each family has its own)."""
    families = list(dict.fromkeys(g.family for g in groups if g.milestones))
    if not families:
        return [Table("Milestones", (), (), "No milestones recorded in these logs.")]
    tables = []
    for family in families:
        rows = [g for g in groups if g.family == family and g.milestones]
        names = _union(g.milestones for g in rows)
        tables.append(
            Table(
                f"Milestones: {family}",
                ("task", "model", *names),
                tuple((g.task, g.model, *(_cell(g.rates.get(m)) for m in names)) for g in rows),
                "Share of scored trials that reached each milestone, with its 95% Wilson interval.",
            )
        )
    return tables


def behaviours_table(groups: Sequence[GroupSummary]) -> Table:
    tags = sorted(_union(tuple(g.behaviours) for g in groups))
    rows = tuple(
        (g.task, g.model, *(share(g.behaviours.get(tag), g.scored) for tag in tags)) for g in groups
    )
    note = "Share of scored trials in which the agent showed each behaviour (tagged / scored)."
    if not tags:
        return Table("Behaviours", (), (), "No behaviour tagged in these logs.")
    return Table("Behaviours", ("task", "model", *tags), rows, note)


def keys_table(groups: Sequence[GroupSummary]) -> Table:
    rows = tuple(
        (
            g.task,
            g.model,
            "; ".join(
                [f"{key} {_cell(r)}" for key, r in g.rates.items()]
                + [f"{key} mean {number(mean)}" for key, mean in g.means.items()]
            )
            or NONE,
        )
        for g in groups
    )
    note = (
        "Every key of the score: 0/1 keys as rate [95% Wilson interval], "
        "other numbers as their mean over scored trials."
    )
    return Table("All score keys", ("task", "model", "keys"), rows, note)


def rate(r: Rate) -> str:
    """`0.50 (5/10)`, or a dash without trials."""
    return NONE if r.mean is None else f"{r.mean:.2f} ({r.successes}/{r.trials})"


def interval(r: Rate) -> str:
    """`[0.24, 0.76]`, or a dash without trials."""
    return NONE if r.mean is None else f"[{r.low:.2f}, {r.high:.2f}]"


def share(r: Rate | None, scored: int) -> str:
    if r is None:
        return NONE if scored == 0 else f"0.00 (0/{scored})"
    return rate(r)


def number(value: float | None, digits: int = 2) -> str:
    return NONE if value is None else f"{value:.{digits}f}"


def _cell(r: Rate | None) -> str:
    return NONE if r is None or r.mean is None else f"{rate(r)} {interval(r)}"


def _union(keys: Iterable[Iterable[str]]) -> tuple[str, ...]:
    ordered: dict[str, None] = {}
    for group in keys:
        ordered.update(dict.fromkeys(group))
    return tuple(ordered)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
