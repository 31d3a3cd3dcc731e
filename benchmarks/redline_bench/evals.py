"""Run the floor and our task families under `inspect_ai.eval()`, and collect what each run
measured: wall clock, per-sample phases (from the log), scores and peak memory per sandbox."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container
from docker.models.networks import Network
from inspect_ai import Epochs, Task, task_with
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalSample

from redline_evals.spec import families

from .memory import PROJECT_LABEL, PeakWatcher
from .phases import phases

FLOOR = "floor"
FLOOR_TASK = Path(__file__).resolve().parents[1] / "floor" / "task.py"
FAMILIES = tuple(families())
"""Every task family (from the specs in `tasks/`)."""
MODELS = {FLOOR: "redline/idle"}
"""The model of each task: the floor makes no model call; our families replay their reference."""
REFERENCE = "redline/reference"


def task_factory(name: str) -> Callable[[], Task]:
    """The @task function of the floor or of a family (`redline_evals.families.<family>`)."""
    if name == FLOOR:
        spec = importlib.util.spec_from_file_location("redline_bench_floor", FLOOR_TASK)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(f"redline_evals.families.{name}")
    factory: Callable[[], Task] = getattr(module, name)
    return factory


@dataclass
class Batch:
    """One `eval()` call: `samples` samples of one task, at most `concurrency` at a time."""

    task: str
    concurrency: int
    wall: float
    """Seconds of the `eval()` call (task construction excluded)."""
    samples: list[dict[str, Any]] = field(default_factory=list)
    """Per sample: epoch, score, error, and its phases (seconds)."""
    peaks_mb: list[float] = field(default_factory=list)
    """Peak memory (the kernel's, page cache included) of each of the run's sandboxes."""
    anon_mb: list[float] = field(default_factory=list)
    """Sampled peak of process memory of each of the run's sandboxes."""

    @property
    def completed(self) -> list[dict[str, Any]]:
        return [s for s in self.samples if s["error"] is None]

    @property
    def rate(self) -> float:
        """Samples (completed or not) per minute of wall clock."""
        return 60 * len(self.samples) / self.wall


class Runner:
    """Runs evals under unique task names (`<session><nnn>-<task>`), so that the compose projects
    of each run (`inspect-<name[:12]>-i...`) can be told apart from each other and from any other
    run on the host."""

    def __init__(self, session: str, log_dir: Path, watcher: PeakWatcher, notes: list[str]):
        self.session, self.log_dir, self.watcher, self.notes = session, log_dir, watcher, notes
        self.count = 0

    def run(self, task: str, epochs: int, concurrency: int) -> Batch:
        self.count += 1
        name = f"{self.session}{self.count:03d}-{task}"
        print(
            f"[eval] {name}: {epochs} samples, {concurrency} at a time", file=sys.stderr, flush=True
        )
        base = task_factory(task)()
        made = task_with(base, name=name, epochs=Epochs(epochs, base.epochs_reducer))
        start = time.monotonic()
        [log] = inspect_eval(
            made,
            model=MODELS.get(task, REFERENCE),
            log_dir=str(self.log_dir),
            display="none",
            score_display=False,
            max_samples=concurrency,
            max_sandboxes=concurrency,
        )
        batch = Batch(task, concurrency, time.monotonic() - start)
        if log.status != "success":
            self.notes.append(f"{name}: eval ended with {log.status}: {log.error}")
        for sample in log.samples or []:
            batch.samples.append(self._sample(name, sample))
        peaks = self.watcher.peaks(f"inspect-{name[:12]}-")
        batch.peaks_mb = [peak / 1e6 for peak, _ in peaks.values()]
        batch.anon_mb = [anon / 1e6 for _, anon in peaks.values()]
        if len(peaks) != len(batch.samples):
            self.notes.append(
                f"{name}: memory peaks for {len(peaks)} of {len(batch.samples)} sandboxes"
            )
        return batch

    def _sample(self, name: str, sample: EvalSample) -> dict[str, Any]:
        error = sample.error.message if sample.error else None
        score = next(iter(sample.scores.values())).value if sample.scores else None
        record: dict[str, Any] = {"epoch": sample.epoch, "score": score, "error": error}
        if error is not None:
            self.notes.append(f"{name} epoch {sample.epoch} failed (left out): {error[:200]}")
            return record
        try:
            record["phases"] = phases(sample)
        except ValueError as ex:
            record["error"] = str(ex)
            self.notes.append(f"{name}: {ex}")
        return record


def compose_objects(client: docker.DockerClient, prefix: str) -> list[Container | Network]:
    """Containers and networks of compose projects whose name starts with `prefix`."""
    found: list[Container | Network] = list(client.containers.list(all=True))
    found += client.networks.list()

    def project(obj: Container | Network) -> str:
        labels = obj.labels if isinstance(obj, Container) else obj.attrs.get("Labels")
        return str((labels or {}).get(PROJECT_LABEL, ""))

    return [obj for obj in found if project(obj).startswith(prefix)]


def clean_up(client: docker.DockerClient, prefix: str) -> str:
    """Inspect removes its sandboxes; check that none of ours is left, remove any that is."""
    left = compose_objects(client, prefix)
    for obj in left:  # containers come first, then their networks
        obj.remove(**({"force": True} if isinstance(obj, Container) else {}))
    names = ", ".join(f"{type(o).__name__.lower()} {o.name}" for o in left)
    others = len(compose_objects(client, "inspect-"))
    return (
        f"LEFT BEHIND by Inspect and removed here: {names}"
        if left
        else f"cleanup: no `{prefix}*` container or network left (Inspect removed them all)"
    ) + f"; {others} `inspect-*` containers/networks of other runs were left alone."
