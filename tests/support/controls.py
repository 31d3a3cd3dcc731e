"""Every family's controls, collected from the task folders and run against real Docker: the
reference (each variant), the idle model, and every script of `tasks/<family>/controls/` with the
expectations its header states (`redline_evals.controls`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.log import EvalLog

from redline_evals.controls import Control, discover
from redline_evals.scenarios.spec import load_spec

from .evals import control, run_controls

REFERENCE_EPOCHS = 2


def task_of(family: str) -> Callable[..., Task]:
    """The family's `@task`, found by convention (`scenarios/<family>.py`, named as the family)."""
    module = importlib.import_module(f"redline_evals.scenarios.{family}")
    made: Callable[..., Task] = getattr(module, family)
    return made


def references(family: str) -> dict[str, dict[str, Any]]:
    """The reference run of every variant (`reference`, `reference_<variant>`) and the idle run."""
    spec, make = load_spec(family), task_of(family)
    runs = {"reference": control("redline/reference", epochs=REFERENCE_EPOCHS)}
    for name in list(spec.variants)[1:]:
        variant = partial(make, **{str(spec.variant_parameter): name})
        runs[f"reference_{name}"] = control(
            "redline/reference", epochs=REFERENCE_EPOCHS, task=variant
        )
    runs["idle"] = control("redline/idle")
    return runs


def scripted(item: Control) -> dict[str, Any]:
    args: dict[str, Any] = {"script": str(item.script)}
    if item.replica_script is not None:
        args["replica_script"] = str(item.replica_script)
    task = partial(task_of(item.family), **item.task_args) if item.task_args else None
    return control("redline/scripted", epochs=item.epochs, task=task, **args)


def family_controls(family: str) -> list[Control]:
    return [item for item in discover() if item.family == family]


def run_family(family: str, log_dir: Path) -> dict[str, EvalLog]:
    """One `eval()` of the family's references, idle run and controls; logs by run name."""
    runs = references(family)
    runs.update({item.name: scripted(item) for item in family_controls(family)})
    return run_controls(task_of(family), runs, log_dir)
