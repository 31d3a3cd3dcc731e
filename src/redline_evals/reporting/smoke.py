"""The table `scripts/real-model-smoke` prints: one row per trial of the logs it wrote.

    python -m redline_evals.reporting.smoke LOG_DIR_OR_FILE...

Read with Inspect's log API (through `logs.read_log`), never from Inspect's console output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inspect_ai.log import EvalLog, read_eval_log

from .logs import REGISTRY_PREFIX, LogRejected, Trial, find_log_files, read_log

HEADERS = ("family", "status", "score", "seconds", "tokens")
SAMPLE_ERROR = "sample error: "
STATUS_WIDTH = 72
"""A longer status (an error message) is cut here; the log has the whole of it."""


@dataclass(frozen=True)
class SmokeRow:
    """One trial: how it ended, its success key's value, wall-clock seconds of its run, tokens."""

    family: str
    status: str
    """`success`, `scored 0`, `unscored: <reason>` or `error: <what>`; a scored trial that a
    limit ended says which, e.g. `scored 0 (message limit)`."""
    score: str
    seconds: int | None
    tokens: int | None

    def cells(self) -> tuple[str, ...]:
        return (
            self.family,
            self.status,
            self.score,
            "-" if self.seconds is None else str(self.seconds),
            "-" if self.tokens is None else str(self.tokens),
        )


def smoke_rows(paths: Iterable[str | Path]) -> list[SmokeRow]:
    """A row per trial of every log under `paths`; a log that cannot be used is one `error` row.

    Raises:
        FileNotFoundError: If a path does not exist.
    """
    files, _ = find_log_files(paths)
    rows: list[SmokeRow] = []
    for file in files:
        header = read_eval_log(file, header_only=True)
        family = header.eval.task.removeprefix(REGISTRY_PREFIX)
        seconds = _seconds(header)
        try:
            trials, _note = read_log(file)
        except LogRejected as rejected:
            rows.append(SmokeRow(family, _short(f"error: {rejected}"), "-", seconds, None))
            continue
        rows.extend(_row(trial, header.status, seconds) for trial in trials)
    return rows


def _row(trial: Trial, run_status: str, seconds: int | None) -> SmokeRow:
    if trial.value is None:
        reason = trial.unscored_reason or "unscored"
        if reason.startswith(SAMPLE_ERROR):
            what = reason.removeprefix(SAMPLE_ERROR)
            status = f"error: run {run_status}" if run_status != "success" else "error"
            status = _short(f"{status}: {what}")
        else:
            status = _short(f"unscored: {reason}")
        return SmokeRow(trial.family, status, "-", seconds, trial.tokens)
    value = trial.value.get(trial.success_key, 0.0)
    status = "success" if value == 1.0 else "scored 0"
    if trial.limit:
        status += f" ({trial.limit} limit)"
    return SmokeRow(trial.family, status, f"{trial.success_key}={value:g}", seconds, trial.tokens)


def _short(text: str) -> str:
    return text if len(text) <= STATUS_WIDTH else text[: STATUS_WIDTH - 1] + "…"


def _seconds(header: EvalLog) -> int | None:
    """Wall-clock seconds of the run: sandboxes, episode and scoring."""
    stats = header.stats
    if not stats.started_at or not stats.completed_at:
        return None
    started = datetime.fromisoformat(stats.started_at)
    completed = datetime.fromisoformat(stats.completed_at)
    return round((completed - started).total_seconds())


def smoke_table(rows: Sequence[SmokeRow]) -> str:
    """A markdown table with padded columns: readable in a terminal, pasteable into docs."""
    cells = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        padded = (cell.replace("|", "\\|").ljust(widths[i]) for i, cell in enumerate(row))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(HEADERS), rule, *(line(row) for row in cells[1:])])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m redline_evals.reporting.smoke LOG_DIR_OR_FILE...")
        return 0 if args else 2
    try:
        rows = smoke_rows(args)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not rows:
        print(f"no Inspect logs in {' '.join(args)}", file=sys.stderr)
        return 1
    print(smoke_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
