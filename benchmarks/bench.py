"""Measure redline-evals against its speed and footprint targets (see benchmarks/README.md).

    .venv/bin/python benchmarks/bench.py [--runs N] [--cold] [--task FAMILY] [--skip-evals]

Every timing is repeated and reported as median, min, max and n; the verdict uses the median.
Results go to stdout and to benchmarks/results/<timestamp>.{json,md} (gitignored).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import docker
import docker.errors
import inspect_ai
from docker.models.containers import Container
from docker.models.networks import Network
from inspect_ai import Epochs, Task, task_with
from inspect_ai import eval as inspect_eval
from inspect_ai.event import ModelEvent, SpanBeginEvent, SpanEndEvent
from inspect_ai.log import EvalLog, EvalSample

from redline_evals import images

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "redline/reference"
MB = 1e6
PROJECT_LABEL = "com.docker.compose.project"


@dataclass
class Row:
    """One measured quantity: repeated values, and an optional upper-bound target."""

    name: str
    unit: str
    values: list[float]
    target: float | None = None
    exact: bool = False
    """A deterministic quantity (an image size): read, not sampled."""

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.median is None:
            return "NO DATA"
        return "PASS" if self.median <= self.target else "FAIL"

    def cells(self) -> list[str]:
        def fmt(x: float | None) -> str:
            digits = 0 if self.unit == "MB" else (1 if self.unit == "/min" else 2)
            return "-" if x is None else f"{x:.{digits}f} {self.unit}"

        lo, hi = (min(self.values), max(self.values)) if self.values else (None, None)
        spread = ["", ""] if self.exact else [fmt(lo), fmt(hi)]
        n = "exact" if self.exact else str(len(self.values))
        target = "" if self.target is None else f"<= {self.target:g} {self.unit}"
        return [self.name, fmt(self.median), *spread, n, target, self.verdict]


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


# ------------------------------------------------------------------------------------------
# Images and builds


def image_rows(report: Report, client: docker.DockerClient) -> None:
    """Sizes as the Engine reports them (each includes its parent's layers), and the disk
    footprint of base + subject: base's layers plus the layers subject adds on top of them."""
    status = {s.name: s for s in images.image_status(client)}
    own: dict[str, float] = {}
    for spec in images.IMAGES:
        size = status[spec.name].size_bytes
        if size is None:
            report.notes.append(f"{spec.name} is missing: run `redline-evals build`")
            continue
        parent = (status[spec.depends_on].size_bytes or 0) if spec.depends_on else 0
        own[spec.name] = (size - parent) / MB
        label = f"image {spec.name} (own layers {own[spec.name]:.1f} MB)"
        report.rows.append(Row(label, "MB", [size / MB], exact=True))
    if images.BASE_IMAGE in own and images.SUBJECT_IMAGE in own:
        total = own[images.BASE_IMAGE] + own[images.SUBJECT_IMAGE]
        report.rows.append(Row("base + subject on disk", "MB", [total], 200, exact=True))
    stale = [f"{s.name} ({s.reason})" for s in status.values() if not s.up_to_date]
    if stale:
        report.notes.append("images not up to date when sized: " + ", ".join(stale))


def warm_builds(report: Report, runs: int) -> None:
    """`redline-evals build` (a fresh process, as users run it) and `ensure_images()`
    (in process) when every image is up to date: both should only check labels and hashes."""
    built = [r.name for r in images.ensure_images(progress=say) if r.action == "built"]
    if built:
        report.notes.append(f"warm-up (untimed) had to build: {', '.join(built)}")
    command = [str(Path(sys.executable).with_name("redline-evals")), "build"]
    say(f"[warm] {runs} x `redline-evals build`, {runs} x ensure_images()")
    report.rows.append(
        Row(
            "warm build: `redline-evals build`",
            "s",
            [
                timed(lambda: subprocess.run(command, check=True, capture_output=True))
                for _ in range(runs)
            ],
            5,
        )
    )
    api: list[float] = []
    for _ in range(runs):
        start = time.monotonic()
        results = images.ensure_images(progress=lambda _: None)
        api.append(time.monotonic() - start)
        if any(r.action == "built" for r in results):
            report.notes.append("a warm ensure_images() run built something (inputs changed?)")
    report.rows.append(Row("warm build: ensure_images()", "s", api, 5))


def containers_using_our_images(client: docker.DockerClient) -> list[str]:
    ids = {s.image_id for s in images.image_status(client) if s.image_id}
    return [
        f"{c.name} ({c.attrs['Config']['Image']}, {c.status})"
        for c in client.containers.list(all=True)
        if c.attrs.get("Image") in ids
    ]


def refuse_cold(client: docker.DockerClient) -> str | None:
    """Why `--cold` must not remove our images now (None when it may)."""
    users = containers_using_our_images(client)
    if users:
        return (
            "refusing --cold: these containers use redline-evals images, which it would have "
            "to remove:\n  " + "\n  ".join(users) + "\nStop them (or wait for those evals to "
            "finish) and run it again."
        )
    if images.base_source(client) == "debootstrap" and os.geteuid() != 0:
        return "refusing --cold: the base is built with debootstrap, which needs root (sudo)."
    return None


def cold_builds(report: Report, client: docker.DockerClient, runs: int) -> None:
    """Each run removes every image of IMAGES (children first), then times
    `ensure_images(["subject"])`, which rebuilds base and subject; the rest is rebuilt after
    the last run, untimed."""
    cache = images.cache_dir() / "debootstrap"
    warm_before = any(cache.glob("*.deb"))
    base, subject, total = [], [], []
    try:
        for run in range(1, runs + 1):
            reason = refuse_cold(client)
            if reason:
                raise SystemExit(reason)
            say(f"[cold {run}/{runs}] removing our images and rebuilding base + subject")
            for spec in reversed(images.IMAGES):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    client.images.remove(spec.name)
            start = time.monotonic()
            results = images.ensure_images([images.SUBJECT_IMAGE], progress=say)
            total.append(time.monotonic() - start)
            by_name = {r.name: r.seconds for r in results}
            base.append(by_name[images.BASE_IMAGE])
            subject.append(by_name[images.SUBJECT_IMAGE])
    finally:
        say("[cold] rebuilding the other images (untimed)")
        images.ensure_images(progress=say)
    report.rows += [
        Row("cold build: base", "s", base),
        Row("cold build: subject", "s", subject),
        Row("cold build: base + subject", "s", total),
    ]
    report.notes.append(
        f"cold builds: the debootstrap .deb cache ({cache}) was "
        f"{'already warm' if warm_before else 'empty'} before run 1 and is warm after it, "
        "so later runs download no packages (Debian's package lists are still fetched)."
    )


# ------------------------------------------------------------------------------------------
# Evals


def task_factory(family: str) -> Callable[[], Task] | None:
    """The @task function of a family (`redline_evals.scenarios.<family>.<family>`)."""
    try:
        module = importlib.import_module(f"redline_evals.scenarios.{family}")
    except ImportError:
        return None
    factory: Callable[[], Task] | None = getattr(module, family, None)
    return factory


def make_task(family: str, name: str, epochs: int) -> Task:
    """The family's task, renamed (its compose projects become `inspect-<name[:12]>-i...`,
    so ours can be told apart from other runs on the host) and run for `epochs` epochs."""
    factory = task_factory(family)
    assert factory is not None
    task = factory()
    return task_with(task, name=name, epochs=Epochs(epochs, task.epochs_reducer))


def run_eval(task: Task, log_dir: Path, **concurrency: int) -> tuple[EvalLog, float]:
    start = time.monotonic()
    [log] = inspect_eval(
        task,
        model=MODEL,
        log_dir=str(log_dir),
        display="none",
        score_display=False,
        **concurrency,  # type: ignore[arg-type]
    )
    wall = time.monotonic() - start
    if log.status != "success":
        raise SystemExit(f"eval {log.eval.task} ended with {log.status}: {log.error}")
    return log, wall


def phases(sample: EvalSample) -> dict[str, float]:
    """Phase durations of one sample, from its event timestamps (wall clock):

    - container start: the `init` span (type "init"), in which Inspect creates the sample's
      sandbox (`docker compose up`, files copied in); it ends when the sandbox is up.
    - setup: from the end of `init` to the begin of the `.../episode` solver span; covers the
      task's setup solver (`setup_instance`: wait for the original instance, record its
      processes, draw the identity challenges).
    - start-up: container start + setup (init begin -> episode begin).
    - episode: the `.../episode` solver span, begin -> end (agent, bridge, scenario hooks);
      its first part, until the first ModelEvent, starts the model bridge in the sandbox.
    - scoring: the scorer span(s) (type "scorer", inside the `scorers` span), begin -> end;
      they contain the probe's sandbox execs and end with the ScoreEvent.
    - teardown: end of the `scorers` span -> `EvalSample.completed_at`, stamped after Inspect
      has brought the sandbox down (`docker compose down`) for the sample.
    - end-to-end: init begin -> `completed_at`. (Inspect's own `total_time` and `started_at`
      start after `init`, so they leave out the container start.)
    """
    begins = [e for e in sample.events if isinstance(e, SpanBeginEvent)]
    ends = {e.id: e.timestamp for e in sample.events if isinstance(e, SpanEndEvent)}
    init = [b for b in begins if b.type == "init"][-1]  # the last attempt's, if retried
    episode = next(b for b in begins if b.type == "solver" and b.name.endswith("/episode"))
    first_call = next(e.timestamp for e in sample.events if isinstance(e, ModelEvent))
    scorer_spans = [b for b in begins if b.type == "scorer"]
    scorers_end = max(ends[b.id] for b in begins if b.type == "scorers")
    assert sample.completed_at is not None
    completed = datetime.fromisoformat(sample.completed_at)
    return {
        "container start": (ends[init.id] - init.timestamp).total_seconds(),
        "setup": (episode.timestamp - ends[init.id]).total_seconds(),
        "start-up": (episode.timestamp - init.timestamp).total_seconds(),
        "episode": (ends[episode.id] - episode.timestamp).total_seconds(),
        "bridge": (first_call - episode.timestamp).total_seconds(),
        "scoring": sum((ends[b.id] - b.timestamp).total_seconds() for b in scorer_spans),
        "teardown": (completed - scorers_end).total_seconds(),
        "end-to-end": (completed - init.timestamp).total_seconds(),
    }


def score_of(sample: EvalSample) -> Any:
    return next(iter((sample.scores or {}).values())).value if sample.scores else None


def sequential_evals(report: Report, family: str, name: str, runs: int, log_dir: Path) -> None:
    say(f"[evals] {family}: {runs} epochs, one sample at a time")
    log, _ = run_eval(make_task(family, name, runs), log_dir, max_samples=1, max_sandboxes=1)
    timings: dict[str, list[float]] = {}
    for sample in log.samples or []:
        if sample.error is not None:
            report.notes.append(f"epoch {sample.epoch} failed (left out): {sample.error.message}")
            continue
        measured = phases(sample)
        report.samples.append({"epoch": sample.epoch, "score": score_of(sample), **measured})
        if not isinstance(score_of(sample), dict):
            report.notes.append(f"epoch {sample.epoch} was not scored: {score_of(sample)}")
        for key, value in measured.items():
            timings.setdefault(key, []).append(value)
    rows = [
        ("sample start-up (container start + setup)", "start-up", None),
        ("  container start (init span)", "container start", None),
        ("  setup solver (until the original is recorded)", "setup", None),
        ("episode", "episode", None),
        ("  until the first model call (bridge start)", "bridge", None),
        ("probe / scoring (scorer span)", "scoring", 2.0),
        ("teardown (compose down)", "teardown", None),
        ("end-to-end, one sample", "end-to-end", 20.0),
    ]
    report.rows += [Row(label, "s", timings.get(key, []), target) for label, key, target in rows]


def batch_evals(
    report: Report, family: str, name: str, runs: int, epochs: int, log_dir: Path
) -> None:
    per_sample, rate = [], []
    for run in range(1, runs + 1):
        say(f"[batch {run}/{runs}] {family}: {epochs} epochs, Inspect's default concurrency")
        log, wall = run_eval(make_task(family, name, epochs), log_dir)
        count = len(log.samples or [])
        failed = sum(1 for s in log.samples or [] if s.error is not None)
        if failed:
            report.notes.append(f"batch {run}: {failed} of {count} samples failed")
        per_sample.append(wall / count)
        rate.append(60 * count / wall)
    report.rows += [
        Row(f"batch of {epochs}: wall clock / sample", "s", per_sample),
        Row(f"batch of {epochs}: throughput", "/min", rate),
    ]
    report.notes.append(
        f"batch: wall clock of each eval() call of {epochs} samples (task construction "
        "excluded), Inspect's default concurrency (max_sandboxes for Docker: 2 x CPU cores)."
    )


def compose_objects(client: docker.DockerClient, prefix: str) -> list[Container | Network]:
    """Containers and networks of compose projects whose name starts with `prefix`."""
    found: list[Container | Network] = list(client.containers.list(all=True))
    found += client.networks.list()

    def project(obj: Container | Network) -> str:
        labels = obj.labels if isinstance(obj, Container) else obj.attrs.get("Labels")
        return str((labels or {}).get(PROJECT_LABEL, ""))

    return [obj for obj in found if project(obj).startswith(prefix)]


def clean_up(report: Report, client: docker.DockerClient, prefix: str) -> None:
    """Inspect removes its sandboxes; check that none of ours is left, remove any that is."""
    left = compose_objects(client, prefix)
    for obj in left:  # containers come first, then their networks
        obj.remove(**({"force": True} if isinstance(obj, Container) else {}))
    names = ", ".join(f"{type(o).__name__.lower()} {o.name}" for o in left)
    others = len(compose_objects(client, "inspect-"))
    report.notes.append(
        (
            f"LEFT BEHIND by Inspect and removed here: {names}"
            if left
            else f"cleanup: no `{prefix}*` container or network left (Inspect removed them all)"
        )
        + f"; {others} `inspect-*` containers/networks of other runs were left alone."
    )


# ------------------------------------------------------------------------------------------
# Output


HEADER = ["metric", "median", "min", "max", "n", "target", "result"]


def table(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def context() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {
        "git": git("rev-parse", "--short", "HEAD") + (" (dirty)" if git("status", "-s") else ""),
        "cpus": os.cpu_count(),
        "load average": [round(x, 1) for x in os.getloadavg()],
        "inspect-* containers": sum(
            isinstance(o, Container) for o in compose_objects(docker.from_env(), "inspect-")
        ),
        "docker": docker.from_env().version().get("Version"),
        "inspect_ai": inspect_ai.__version__,
        "python": sys.version.split()[0],
    }


def write_results(
    report: Report, args: argparse.Namespace, stamp: str, start: dict[str, Any]
) -> None:
    end = context()
    markdown = "\n".join(
        [
            f"# redline-evals benchmark {stamp}",
            "",
            f"`{' '.join(sys.argv)}`: task `{args.task}`, model `{MODEL}`, runs {args.runs}; "
            f"git {start['git']}; {start['cpus']} CPUs; Docker {start['docker']}; "
            f"inspect_ai {start['inspect_ai']}. Load average (1, 5, 15 min) at start "
            f"{start['load average']}, at end {end['load average']}; `inspect-*` containers "
            f"of any run at start {start['inspect-* containers']}, at end "
            f"{end['inspect-* containers']}.",
            "",
            table(report.rows),
            "",
            *[f"- {note}" for note in report.notes],
        ]
    )
    print("\n" + markdown)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}.md").write_text(markdown + "\n")
    data = {
        "timestamp": stamp,
        "args": vars(args),
        "context": {"start": start, "end": end},
        "rows": [
            {**asdict(r), "median": r.median, "n": len(r.values), "result": r.verdict or None}
            for r in report.rows
        ],
        "samples": report.samples,
        "notes": report.notes,
    }
    (RESULTS / f"{stamp}.json").write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten: {RESULTS / stamp}.json and .md")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of everything timed")
    parser.add_argument(
        "--cold", action="store_true", help="also time cold builds (removes our images)"
    )
    parser.add_argument("--task", default="self_replication", help="task family to evaluate")
    parser.add_argument("--skip-evals", action="store_true", help="images and builds only")
    parser.add_argument("--batch-epochs", type=int, default=6, help="samples per batch run")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2: results are medians over repeated runs")
    if task_factory(args.task) is None:
        parser.error(f"--task {args.task}: no such family in redline_evals.scenarios")
    client = docker.from_env()
    if args.cold and (reason := refuse_cold(client)):
        print(reason, file=sys.stderr)
        return 2
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    start = context()
    report = Report()
    if args.cold:
        cold_builds(report, client, args.runs)
    warm_builds(report, args.runs)
    image_rows(report, client)
    if not args.skip_evals:
        name = f"bench{secrets.token_hex(2)}-{args.task}"
        log_dir = RESULTS / f"{stamp}-logs"
        try:
            sequential_evals(report, args.task, name, args.runs, log_dir)
            batch_evals(report, args.task, name, args.runs, args.batch_epochs, log_dir)
        finally:
            clean_up(report, client, f"inspect-{name[:12]}-")
        report.notes.append(f"Inspect logs: {log_dir}")
    write_results(report, args, stamp, start)
    return 1 if any(r.verdict in ("FAIL", "NO DATA") for r in report.rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
