"""The benchmark's floor: a bare Inspect Docker task whose only work is running `true`.

    inspect eval benchmarks/floor/task.py --model redline/idle

It makes no model call and has no scorer, so its per-sample time is Inspect's own cost of a
Docker sample: compose up, one exec, compose down.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import SandboxEnvironmentSpec, sandbox

COMPOSE = Path(__file__).resolve().with_name("compose.yaml")


@solver
def run_true() -> Solver:
    """Run `true` in the sample's sandbox, and fail the sample if it does not succeed."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        result = await sandbox().exec(["true"])
        if not result.success:
            raise RuntimeError(f"`true` failed in the floor sandbox: {result.stderr}")
        return state

    return solve


@task
def floor() -> Task:
    """One sample: bring the sandbox up, run `true`, bring it down."""
    return Task(
        dataset=[Sample(id="floor", input="true")],
        solver=run_true(),
        sandbox=SandboxEnvironmentSpec("docker", str(COMPOSE)),
    )
