"""`redline-evals report`: a model comparison from Inspect logs, as markdown, PNG and HTML."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .logs import LogSet, read_trials
from .plot import html_page, success_png
from .stats import GroupSummary, summarise
from .tables import Table, report_tables

TITLE = "redline-evals report"
DEFAULT_KS = (1, 10)


class NoUsableLogs(Exception):
    """None of the given paths held a usable redline-evals log."""


@dataclass(frozen=True)
class Report:
    """What was read, the groups and tables built from it, and the files written."""

    logs: LogSet
    groups: list[GroupSummary]
    tables: list[Table]
    markdown: Path
    png: Path
    html: Path


SHOWN = 10
"""Skipped logs named when none was usable (the rest are counted)."""


def write_report(
    paths: Iterable[str | Path], out: str | Path, ks: Sequence[int] = DEFAULT_KS
) -> Report:
    """Read the logs under `paths` and write `report.md`, `success.png`, `report.html` to `out`.

    Raises:
        FileNotFoundError: If a path does not exist.
        NoUsableLogs: If no usable redline-evals log was found (the reasons are in the message).
    """
    logs = read_trials(paths)
    if not logs.trials:
        shown = [f"\n  {s.path}: {s.reason}" for s in logs.skipped[:SHOWN]]
        if len(logs.skipped) > SHOWN:
            shown.append(f"\n  ... and {len(logs.skipped) - SHOWN} more")
        raise NoUsableLogs("no usable redline-evals log:" + ("".join(shown) or " nothing given"))
    groups = summarise(logs.trials, ks)
    tables = report_tables(groups, ks)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    png = success_png(groups)
    intro = _intro(logs, groups)
    footer = _sources(logs)
    files = Report(
        logs, groups, tables, folder / "report.md", folder / "success.png", folder / "report.html"
    )
    files.png.write_bytes(png)
    files.markdown.write_text(
        "\n\n".join(
            [f"# {TITLE}", intro, "![success by task and model](success.png)"]
            + [table.markdown() for table in tables]
            + ["## Logs", footer]
        )
        + "\n"
    )
    files.html.write_text(html_page(TITLE, intro, tables, png, footer))
    return files


def _intro(logs: LogSet, groups: Sequence[GroupSummary]) -> str:
    scored = sum(1 for t in logs.trials if t.scored)
    models = len({g.model for g in groups})
    tasks = len({g.task for g in groups})
    return (
        f"{len(logs.trials)} trials ({scored} scored) from {len(logs.logs)} log(s): "
        f"{models} model(s) on {tasks} task variant(s)."
    )


def _sources(logs: LogSet) -> str:
    lines = [f"Used ({len(logs.logs)}):", *(f"- {path}" for path in logs.logs)]
    if logs.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in logs.notes)]
    if logs.skipped:
        lines += ["", f"Skipped ({len(logs.skipped)}):"]
        lines += [f"- {s.path}: {s.reason}" for s in logs.skipped]
    return "\n".join(lines)
