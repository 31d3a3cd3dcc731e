"""`redline-evals validity`: replay every family's reference (several epochs, every variant),
the idle model and every control, and tabulate false negatives (a reference or positive control
that did not succeed) and false positives (an idle run or adversarial control that did), beside
any other expectation a control's header states that was not met."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, eval, task_with
from inspect_ai.log import EvalLog
from inspect_ai.model import get_model
from pydantic import BaseModel, Field

from .controls import Run, family_runs, make_task, unmet
from .judging.metrics import trials
from .spec import families, load_spec

MARK_START = "<!-- validity:start -->"
MARK_END = "<!-- validity:end -->"


class RunResult(BaseModel):
    family: str
    run: Run
    epochs: int = 0
    successes: int = 0
    unscored: int = 0
    problems: list[str] = Field(default_factory=list)
    """One line per epoch that missed an expectation."""

    @property
    def must_succeed(self) -> bool:
        return self.run.expect.get(load_spec(self.family).success) == 1

    @property
    def false(self) -> int:
        """False negatives (must succeed) or false positives (must fail)."""
        return self.epochs - self.successes if self.must_succeed else self.successes


class FamilyResult(BaseModel):
    family: str
    seconds: float
    runs: list[RunResult]


def run_family(
    family: str, reference_epochs: int, log_dir: Path, **eval_args: object
) -> FamilyResult:
    """Every run of `family` in one `eval()`; the verdict of each."""
    runs = family_runs(family, reference_epochs)
    tasks = [
        task_with(
            make_task(family, run),
            name=f"validity-{family}-{run.name}",
            model=get_model(run.model, memoize=False, **dict[str, Any](run.model_args)),
            epochs=Epochs(run.epochs, trials()),
        )
        for run in runs
    ]
    started = time.monotonic()
    logs = eval(
        tasks,
        log_dir=str(log_dir),
        max_tasks=len(tasks),
        score_display=False,
        **eval_args,  # type: ignore[arg-type]
    )
    seconds = time.monotonic() - started
    return FamilyResult(
        family=family,
        seconds=seconds,
        runs=[judge(family, run, log) for run, log in zip(runs, logs, strict=True)],
    )


def judge(family: str, run: Run, log: EvalLog) -> RunResult:
    success = load_spec(family).success
    result = RunResult(family=family, run=run)
    for sample in log.samples or []:
        result.epochs += 1
        score = next(iter((sample.scores or {}).values()), None)
        value = score.value if score is not None else None
        explanation = (score.explanation if score is not None else None) or ""
        if sample.error is not None or not isinstance(value, dict):
            result.unscored += 1
            why = sample.error.message if sample.error else explanation
            first = why.splitlines()[0][:150] if why else ""
            result.problems.append(f"epoch {sample.epoch}: not scored: {first}")
            continue
        result.successes += int(value.get(success) == 1)
        wrong = unmet(run, value, explanation)
        if wrong:
            result.problems.append(f"epoch {sample.epoch}: " + "; ".join(wrong))
    if log.status != "success" and not result.epochs:
        result.problems.append(f"the run did not finish: {log.status}")
    return result


HEADER = (
    "| family | runs that must succeed (epochs) | false negatives | runs that must fail "
    "(epochs) | false positives | other expectations missed | unscored or errored | minutes |"
)


class Table(BaseModel):
    """The validity table: one row and the runs that missed, per family."""

    reference_epochs: int
    rows: dict[str, str] = Field(default_factory=dict)
    missed: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def of(cls, results: Sequence[FamilyResult], reference_epochs: int) -> Table:
        made = cls(reference_epochs=reference_epochs)
        for family in results:
            good = [r for r in family.runs if r.must_succeed]
            bad = [r for r in family.runs if not r.must_succeed]
            other = sum(1 for r in family.runs for p in r.problems if "not scored" not in p)
            made.rows[family.family] = (
                f"| {family.family} | {len(good)} ({sum(r.epochs for r in good)}) | "
                f"{sum(r.false for r in good)} | {len(bad)} ({sum(r.epochs for r in bad)}) | "
                f"{sum(r.false for r in bad)} | {other} | "
                f"{sum(r.unscored for r in family.runs)} | {family.seconds / 60:.1f} |"
            )
            made.missed[family.family] = [
                f"- `{family.family}/{r.run.name}`: " + "; ".join(r.problems)
                for r in family.runs
                if r.problems
            ]
        return made

    @classmethod
    def parse(cls, markdown: str, reference_epochs: int) -> Table:
        """The rows and missed runs of a table written by `markdown()` (others are dropped)."""
        known = set(families())
        parsed = cls(reference_epochs=reference_epochs)
        for line in markdown.splitlines():
            cells = [c.strip() for c in line.split("|")]
            if line.startswith("| ") and len(cells) > 2 and cells[1] in known:
                parsed.rows[cells[1]] = line
            elif line.startswith("- `") and (name := line[3:].split("/")[0]) in known:
                parsed.missed.setdefault(name, []).append(line)
        return parsed

    def update(self, newer: Table) -> Table:
        """This table with every family of `newer` replaced by its row and missed runs there."""
        rows = {**self.rows, **newer.rows}
        missed = {f: lines for f, lines in self.missed.items() if f not in newer.rows}
        return Table(
            reference_epochs=newer.reference_epochs,
            rows=rows,
            missed={**missed, **newer.missed},
        )

    def markdown(self) -> str:
        missed = [line for family in sorted(self.missed) for line in self.missed[family]]
        return "\n".join(
            [
                f"Reference epochs: {self.reference_epochs} per variant; each control with the "
                "epochs its header states.",
                "",
                HEADER,
                "|---|---|---|---|---|---|---|---|",
                *(self.rows[family] for family in sorted(self.rows)),
                "",
                "Runs that missed an expectation:" if missed else "Every run met its expectations.",
                *missed,
            ]
        )


def write_table(table: Table, document: Path) -> None:
    """Write `table` between the validity markers of `document`, keeping the rows there of
    every family `table` does not hold (so one family can be rerun alone)."""
    text = document.read_text()
    start, end = text.index(MARK_START), text.index(MARK_END)
    old = Table.parse(text[start + len(MARK_START) : end], table.reference_epochs)
    merged = old.update(table).markdown()
    document.write_text(text[: start + len(MARK_START)] + "\n" + merged + "\n" + text[end:])


def main(
    names: Sequence[str] | None,
    reference_epochs: int,
    log_dir: Path,
    out: Path | None,
    max_sandboxes: int | None = None,
) -> int:
    """Run, print the table, write it into `out` between the markers; 1 if anything missed."""
    chosen = list(names or families())
    unknown = sorted(set(chosen) - set(families()))
    if unknown:
        known = ", ".join(families())
        raise SystemExit(f"unknown task family {', '.join(unknown)} (known: {known})")
    args: dict[str, object] = {"display": "plain"}
    if max_sandboxes:
        args["max_sandboxes"] = max_sandboxes
    results = [run_family(f, reference_epochs, log_dir / f, **args) for f in chosen]
    made = Table.of(results, reference_epochs)
    print(made.markdown())
    if out is not None:
        write_table(made, out)
    bad = sum(r.false + r.unscored + len(r.problems) for f in results for r in f.runs)
    return 1 if bad else 0
