"""Running controls through Inspect against real Docker, and reading their scores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
from inspect_ai import Epochs, Task, eval, task_with
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import get_model

from redline_evals.controls import squeeze
from redline_evals.judging.metrics import trials

REPO = Path(__file__).resolve().parents[2]
INSPECT = str(Path(sys.executable).parent / "inspect")


@contextmanager
def eval_in_background(*args: str, log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`inspect eval ARGS` from the repo, in its own session (a signal reaches all of it), output
    discarded; killed on leaving the block if it is still running."""
    process = subprocess.Popen(
        [INSPECT, "eval", *args, "--log-dir", str(log_dir), "--display", "plain"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C: SIGINT to the eval's whole session; it must exit within two minutes."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=120)


def control(
    model: str, epochs: int = 1, task: Callable[[], Task] | None = None, **model_args: Any
) -> dict[str, Any]:
    """One control run: a `redline/...` model, its arguments, how many epochs, and optionally
    its own task (a variant) instead of the default one."""
    return {"model": model, "epochs": epochs, "task": task, "model_args": model_args}


def run_controls(
    make_task: Callable[[], Task],
    controls: dict[str, dict[str, Any]],
    log_dir: Path,
    prefix: str | None = None,
    **eval_args: Any,
) -> dict[str, EvalLog]:
    """Run every control as its own task in one `eval()` call; return the logs by name.

    Task names get a prefix unique to this call (`prefix`, made up if not given), so the check
    for leftover containers, networks and volumes sees only this call's compose projects
    (`inspect-<first 12 chars of the task>-...`), even when other evaluations share the host.
    `eval_args` go to `eval()` (e.g. `max_sandboxes`).
    """
    prefix = prefix or new_prefix()
    tasks = [
        task_with(
            (spec["task"] or make_task)(),
            name=prefix + name,
            model=get_model(spec["model"], memoize=False, **spec["model_args"]),
            epochs=Epochs(spec["epochs"], trials()),
        )
        for name, spec in controls.items()
    ]
    logs = eval(
        tasks,
        log_dir=str(log_dir),
        max_tasks=len(tasks),
        display="none",
        score_display=False,
        **eval_args,
    )
    assert_nothing_left(f"inspect-{prefix}")
    return {log.eval.task.removeprefix(prefix): log for log in logs}


def new_prefix() -> str:
    """A task name prefix unique to one test (compose projects are `inspect-<prefix>...`)."""
    return f"t{uuid.uuid4().hex[:4]}-"


def assert_nothing_left(project_prefix: str = "inspect-", before: Iterable[str] = ()) -> None:
    """No container, network or volume of a compose project whose name starts with
    `project_prefix` is left on the host, except those already in `before`."""
    leftovers = sorted(
        {n for n in project_resources() if n.startswith(project_prefix)} - set(before)
    )
    assert not leftovers, f"containers, networks or volumes left behind: {leftovers}"


def project_resources() -> list[str]:
    """Containers, networks and volumes of Inspect compose projects still on the host."""
    return project_containers() + project_networks() + project_volumes()


def _project(labels: dict[str, str] | None) -> str:
    return (labels or {}).get("com.docker.compose.project", "")


def project_containers() -> list[str]:
    """Containers of Inspect compose projects still present on the host."""
    client = docker.from_env()
    return [
        c.name
        for c in client.containers.list(all=True, ignore_removed=True)
        if _project(c.labels).startswith("inspect-")
    ]


def project_networks() -> list[str]:
    """Networks of Inspect compose projects still present on the host."""
    client = docker.from_env()
    return [
        n.name
        for n in client.networks.list()
        if _project(n.attrs.get("Labels")).startswith("inspect-")
    ]


def project_volumes() -> list[str]:
    """Volumes of Inspect compose projects still present on the host."""
    client = docker.from_env()
    return [
        v.name
        for v in client.volumes.list()
        if _project(v.attrs.get("Labels")).startswith("inspect-")
    ]


def scores(log: EvalLog) -> list[dict[str, Any]]:
    """The score value of every sample (epoch) of a log, failing on errors or unscored samples."""
    assert log.status == "success", f"{log.eval.task}: {log.status} {log.error}"
    assert log.samples
    values = []
    for sample in log.samples:
        assert sample.error is None, f"{log.eval.task}: {sample.error}"
        score = next(iter((sample.scores or {}).values()))
        assert isinstance(score.value, dict), f"{log.eval.task}: unscored ({score.explanation})"
        values.append(score.value)
    return values


def metrics(log: EvalLog) -> dict[str, dict[str, float]]:
    """Score key -> metric name -> value, merging Inspect's views of a key: the reduced one
    (`mean` after the epochs reducer) and the one over every trial (Wilson, pass@k)."""
    assert log.results is not None, f"{log.eval.task}: no results"
    merged: dict[str, dict[str, float]] = {}
    for score in log.results.scores:
        merged.setdefault(score.name, {}).update(
            {name: metric.value for name, metric in score.metrics.items()}
        )
    return merged


def explanation(sample: EvalSample) -> str:
    """The score's explanation, with the padding of its aligned tables squeezed to one space
    (a row reads `| 8101 | 531 | ...` whatever the column widths)."""
    return squeeze(next(iter((sample.scores or {}).values())).explanation or "")
