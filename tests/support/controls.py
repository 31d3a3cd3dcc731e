"""Every family's runs (`redline_evals.controls.family_runs`: references, idle, controls) against
real Docker, in one `eval()` per family."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from inspect_ai.log import EvalLog

from redline_evals.controls import family_runs, make_task

from .evals import control, run_controls

REFERENCE_EPOCHS = 2


def run_family(family: str, log_dir: Path) -> dict[str, EvalLog]:
    """The logs of the family's runs, by run name."""
    runs = {
        run.name: control(
            run.model, epochs=run.epochs, task=partial(make_task, family, run), **run.model_args
        )
        for run in family_runs(family, REFERENCE_EPOCHS)
    }
    return run_controls(partial(make_task, family, family_runs(family)[0]), runs, log_dir)
