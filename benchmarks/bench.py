"""Benchmark redline-evals against a bare-Inspect floor (see benchmarks/README.md).

    .venv/bin/python benchmarks/bench.py [--quick] [--runs N] [--cold] [--label TEXT]
    .venv/bin/python benchmarks/bench.py --write-docs

Every figure is a median over repeated runs, reported beside the floor's and as a ratio to it.
Results go to benchmarks/results/<stamp>.{json,md} (gitignored); --write-docs turns the last
one into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import inspect_ai
from docker.models.containers import Container
from redline_bench import builds, report
from redline_bench.evals import FAMILIES, FLOOR, Batch, Runner, clean_up, compose_objects
from redline_bench.figures import Figure
from redline_bench.memory import PeakWatcher
from redline_bench.phases import PARTS, SUMMARY

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
PRIMARY = "self_replication"
"""The family measured at every concurrency, beside the floor."""
PER_SAMPLE = "Per sample, one sandbox at a time (max_sandboxes=1)"
THROUGHPUT = "Throughput (samples per minute of eval() wall clock)"


@dataclass(frozen=True)
class Plan:
    runs: int
    waves: int
    """Each throughput eval has waves x concurrency samples."""
    concurrency: tuple[int, ...]
    families: tuple[str, ...]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="rounds of everything timed (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round, 1 wave")
    parser.add_argument("--waves", type=int, help="throughput samples per eval / concurrency (2)")
    parser.add_argument("--concurrency", default="1,2,4", help="max_sandboxes values (1,2,4)")
    parser.add_argument("--families", default=",".join(FAMILIES), help="families to measure")
    parser.add_argument("--cold", action="store_true", help="also cold builds (removes our images)")
    parser.add_argument("--skip-evals", action="store_true", help="images and builds only")
    parser.add_argument("--label", default="", help="a remark shown with the results")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"last results -> {DOCS_PAGE.name}"
    )
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.waves = args.waves or (1 if args.quick else 2)
    if args.runs < 2 and not args.quick:
        parser.error("--runs must be at least 2 (medians over repeated runs), or use --quick")
    args.concurrency = tuple(int(k) for k in args.concurrency.split(","))
    args.families = tuple(f for f in args.families.split(",") if f)
    if unknown := set(args.families) - set(FAMILIES):
        parser.error(f"--families: unknown {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    if PRIMARY not in args.families:
        parser.error(f"--families must include {PRIMARY} (measured at every concurrency)")
    if 1 not in args.concurrency:
        parser.error("--concurrency must include 1 (per-sample figures come from it)")
    return args


def context(client: docker.DockerClient) -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout
        return out.strip()

    others = sum(isinstance(o, Container) for o in compose_objects(client, "inspect-"))
    return {
        "git": git("rev-parse", "--short", "HEAD") + (" (dirty)" if git("status", "-s") else ""),
        "load": [round(x, 1) for x in os.getloadavg()],
        "others": others,
    }


def machine(client: docker.DockerClient) -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    compose = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_gib": int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20,
        "docker": client.version().get("Version"),
        "compose": compose,
        "kernel": platform.release(),
        "cgroup": client.info().get("CgroupVersion"),
        "inspect_ai": inspect_ai.__version__,
        "python": platform.python_version(),
    }


def measure_evals(runner: Runner, plan: Plan) -> list[Batch]:
    """Rounds of: the floor and PRIMARY at each concurrency (interleaved, so that a change in
    the machine's load hits both), then one sample of each other family, alone."""
    batches = []
    for round_ in range(1, plan.runs + 1):
        print(f"[round {round_}/{plan.runs}]", file=sys.stderr, flush=True)
        for k in plan.concurrency:
            for task in (FLOOR, PRIMARY):
                batches.append(runner.run(task, plan.waves * k, k))
        for family in plan.families:
            if family != PRIMARY:
                batches.append(runner.run(family, 1, 1))
    return batches


def eval_figures(batches: list[Batch], plan: Plan) -> tuple[list[Figure], dict[str, Any]]:
    """Per-sample figures and throughput, each beside the floor's; the phase breakdown."""
    alone = [b for b in batches if b.concurrency == 1]

    def per_sample(task: str, key: str) -> list[float]:
        return [s["phases"][key] for b in alone if b.task == task for s in b.completed]

    def memory(task: str, kind: str) -> list[float]:
        return [mb for b in alone if b.task == task for mb in getattr(b, kind)]

    figures = []
    for task in plan.families:
        e2e_target = 20.0 if task == PRIMARY else None
        scoring_target = 2.0 if task == PRIMARY else None
        specs: list[tuple[str, str, list[float], list[float] | None, float | None, float | None]]
        specs = [  # name, unit, ours, the floor's, target, ratio target
            ("sample start-up", "s", per_sample(task, "start-up"), per_sample(FLOOR, "start-up"),
             None, None),
            ("probe (scoring)", "s", per_sample(task, "scoring"), None, scoring_target, None),
            ("end-to-end", "s", per_sample(task, "end-to-end"),
             per_sample(FLOOR, "end-to-end"), e2e_target, None),
            ("per-sample overhead (end-to-end minus agent)", "s",
             per_sample(task, "harness"), per_sample(FLOOR, "harness"), None, 1.3),
            ("peak memory per sandbox (cgroup)", "MB", memory(task, "peaks_mb"),
             memory(FLOOR, "peaks_mb"), None, None),
            ("  of which process memory (sampled)", "MB", memory(task, "anon_mb"),
             memory(FLOOR, "anon_mb"), None, None),
        ]  # fmt: skip
        figures += [
            Figure(PER_SAMPLE, f"{task}: {name}", unit, ours, floor, target, ratio_target)
            for name, unit, ours, floor, target, ratio_target in specs
        ]

    def rates(task: str, k: int) -> list[float]:
        return [b.rate for b in batches if b.task == task and b.concurrency == k]

    for k in plan.concurrency:
        name = f"{PRIMARY}: max_sandboxes={k}, {plan.waves * k} samples per eval"
        ours, floor = rates(PRIMARY, k), rates(FLOOR, k)
        figures.append(Figure(THROUGHPUT, name, "/min", ours, floor, higher_is_better=True))
    by_task = {
        task: {part: per_sample(task, part) for part in (*PARTS, *SUMMARY)}
        for task in (FLOOR, *plan.families)
    }
    return figures, {"floor": FLOOR, "parts": [*PARTS, *SUMMARY], "by_task": by_task}


def reference_successes(batches: list[Batch]) -> str:
    """How many of our samples scored success (a failing reference would time another path)."""
    ours = [s for b in batches if b.task != FLOOR for s in b.samples]
    ok = sum(
        isinstance(score := s["score"], dict)
        and score.get("replicated", score.get("persisted")) == 1
        for s in ours
    )
    return f"reference samples scored success (`replicated`/`persisted` 1): {ok} of {len(ours)}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.write_docs:
        source = report.write_docs(RESULTS, DOCS_PAGE)
        print(f"written: {DOCS_PAGE} (from {source.name})")
        return 0
    client = docker.from_env()
    if args.cold and (reason := builds.refuse_cold(client)):
        print(reason, file=sys.stderr)
        return 2
    began = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    plan = Plan(args.runs, args.waves, args.concurrency, args.families)
    start, notes = context(client), list[str]()
    figures = builds.cold_builds(client, args.runs, notes) if args.cold else []
    figures += builds.warm_builds(args.runs, notes) + builds.image_figures(client, notes)
    breakdown: dict[str, Any] = {"floor": FLOOR, "parts": [], "by_task": {}}
    batches: list[Batch] = []
    if not args.skip_evals:
        session = f"rb{secrets.token_hex(2)}"
        log_dir = RESULTS / f"{stamp}-logs"
        try:
            with PeakWatcher(client, f"inspect-{session}") as watcher:
                batches = measure_evals(Runner(session, log_dir, watcher, notes), plan)
            notes += watcher.problems
        finally:
            notes.append(clean_up(client, f"inspect-{session}"))
        notes.append(reference_successes(batches))
        more, breakdown = eval_figures(batches, plan)
        figures += more
        notes.append(f"Inspect logs: {log_dir.relative_to(ROOT)}")
    data = {
        "stamp": stamp,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([".venv/bin/python", "benchmarks/bench.py", *(argv or sys.argv[1:])]),
        "label": args.label,
        "args": {k: v for k, v in vars(args).items() if k != "write_docs"},
        "elapsed": time.monotonic() - began,
        "machine": machine(client),
        "context": {"start": start, "end": context(client)},
        "figures": [f.to_json() for f in figures],
        "breakdown": breakdown,
        "batches": [
            {
                "task": b.task,
                "concurrency": b.concurrency,
                "wall": b.wall,
                "rate": b.rate,
                "samples": b.samples,
                "peaks_mb": b.peaks_mb,
                "anon_mb": b.anon_mb,
            }
            for b in batches
        ],
        "notes": notes,
    }
    path = report.write_results(data, RESULTS)
    print(path.with_suffix(".md").read_text())
    print(f"written: {path} and .md")
    failed = any(s["error"] for b in batches for s in b.samples)
    return 1 if failed or any(f.verdict == "NO DATA" for f in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
