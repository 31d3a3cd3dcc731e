"""The benchmark's pure parts: medians, ratios, verdicts, tables, the phase breakdown of a sample
read through Inspect's log types, cgroup peak files, and the docs page rendered from results."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.event import Event, ModelEvent, SpanBeginEvent, SpanEndEvent
from inspect_ai.log import EvalSample, read_eval_log_sample, write_eval_log
from inspect_ai.model import GenerateConfig, ModelOutput

# benchmarks/ is not a package of the project: put it first on sys.path, as running
# `python benchmarks/bench.py` does
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from redline_bench import report  # noqa: E402
from redline_bench.figures import (  # noqa: E402
    Figure,
    beyond_floor,
    breakdown_table,
    figure_tables,
    fmt,
    markdown_table,
    median,
    ratio,
)
from redline_bench.memory import cgroup_peak_file  # noqa: E402
from redline_bench.phases import PARTS, phases  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def span(id: str, type: str, name: str, begin: float, end: float) -> list[Event]:
    return [
        SpanBeginEvent(id=id, type=type, name=name, timestamp=at(begin)),
        SpanEndEvent(id=id, timestamp=at(end)),
    ]


def model_call(begin: float, end: float) -> ModelEvent:
    return ModelEvent(
        model="redline/reference",
        input=[],
        tools=[],
        tool_choice="auto",
        config=GenerateConfig(),
        output=ModelOutput.from_content("redline/reference", "done"),
        timestamp=at(begin),
        completed=at(end),
    )


def sample(events: list[Event], completed: float | None) -> EvalSample:
    return EvalSample(
        id="s",
        epoch=1,
        input="x",
        target="",
        events=sorted(events, key=lambda e: e.timestamp),
        completed_at=None if completed is None else at(completed).isoformat(),
    )


def our_sample() -> EvalSample:
    """Shaped like a self_replication sample: init, setup solver, episode with model calls,
    scorers, then compose down until completed_at."""
    return sample(
        [
            *span("i", "init", "init", 0.0, 2.0),
            *span("ss", "solvers", "solvers", 2.0, 12.0),
            *span("su", "solver", "redline_evals/setup_instance", 2.0, 2.5),
            *span("ep", "solver", "redline_evals/episode", 2.5, 12.0),
            model_call(8.5, 8.6),
            model_call(9.0, 10.5),
            *span("sc", "scorers", "scorers", 12.0, 14.0),
            *span("s1", "scorer", "replication_scorer", 12.0, 14.0),
        ],
        completed=14.25,
    )


def test_phases_of_a_sample_with_an_agent() -> None:
    got = phases(our_sample())
    assert got == pytest.approx(
        {
            "compose up": 2.0,
            "setup": 0.5,
            "bridge start": 6.0,
            "agent": 2.0,
            "bridge stop": 1.5,
            "scoring": 2.0,
            "compose down": 0.25,
            "other": 0.0,
            "start-up": 2.5,
            "episode": 9.5,
            "harness": 12.25,
            "end-to-end": 14.25,
        }
    )
    assert sum(got[p] for p in PARTS) == pytest.approx(got["end-to-end"])


def test_phases_of_the_floor_and_gaps_between_spans() -> None:
    # no setup solver, no model call, an empty scorers span; a 0.1 s gap before `solvers`
    floor = sample(
        [
            *span("i", "init", "init", 0.0, 2.4),
            *span("ss", "solvers", "solvers", 2.5, 2.7),
            *span("t", "solver", "run_true", 2.5, 2.7),
            *span("sc", "scorers", "scorers", 2.7, 2.7),
        ],
        completed=3.0,
    )
    got = phases(floor)
    assert got["compose up"] == pytest.approx(2.4)
    assert got["setup"] == pytest.approx(0.1)  # init end -> the first solver
    assert got["agent"] == pytest.approx(0.2)
    assert got["bridge start"] == got["bridge stop"] == got["scoring"] == 0.0
    assert got["compose down"] == pytest.approx(0.3)
    assert got["end-to-end"] == pytest.approx(3.0)
    assert got["harness"] == pytest.approx(2.8)
    assert sum(got[p] for p in PARTS) == pytest.approx(3.0)


def test_phases_use_the_last_init_attempt_and_refuse_a_sample_that_never_ran() -> None:
    retried = our_sample()
    retried.events[0:0] = span("i0", "init", "init", -5.0, -4.0)
    assert phases(retried)["compose up"] == pytest.approx(2.0)
    assert phases(retried)["end-to-end"] == pytest.approx(14.25)
    with pytest.raises(ValueError, match="no init span"):
        phases(sample(span("ss", "solvers", "solvers", 0, 1), completed=1.0))
    with pytest.raises(ValueError):
        phases(sample(span("i", "init", "init", 0, 1), completed=None))


def test_phases_survive_a_round_trip_through_an_eval_log(tmp_path: Path) -> None:
    """The breakdown reads what Inspect writes and reads back, not only objects built here."""
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSpec

    log = EvalLog(
        eval=EvalSpec(
            created=T0.isoformat(),
            task="t",
            dataset=EvalDataset(),
            model="redline/reference",
            config=EvalConfig(),
        ),
        samples=[our_sample()],
    )
    path = tmp_path / "log.eval"
    write_eval_log(log, str(path))
    assert phases(read_eval_log_sample(str(path), id="s", epoch=1)) == phases(our_sample())


def test_median_and_ratio() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert median([]) is None
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(None, 2.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


def test_figure_verdicts() -> None:
    e2e = Figure("s", "e2e", "s", [4.0, 3.0, 100.0], floor=[2.0, 3.0, 2.5], ratio_target=1.3)
    assert (e2e.median, e2e.floor_median) == (4.0, 2.5)
    assert e2e.ratio == pytest.approx(1.6)
    assert e2e.verdict == "FAIL"
    assert Figure("s", "e2e", "s", [3.0], floor=[2.5], ratio_target=1.3).verdict == "PASS"
    # both bounds must hold
    assert Figure("s", "x", "s", [3.0], floor=[2.5], target=2.0, ratio_target=1.3).verdict == "FAIL"
    assert Figure("s", "x", "s", [], floor=[2.5], ratio_target=1.3).verdict == "NO DATA"
    assert Figure("s", "x", "s", [1.0], floor=[], ratio_target=1.3).verdict == "NO DATA"
    assert Figure("s", "x", "s", [1.0]).verdict == ""
    rate = Figure("t", "rate", "/min", [5.0], floor=[20.0], target=6.0, higher_is_better=True)
    assert rate.verdict == "FAIL"
    assert rate.ratio == 0.25


def test_figure_json_round_trip() -> None:
    figure = Figure("s", "e2e", "s", [4.0, 3.0], floor=[2.0], target=20.0, ratio_target=1.3)
    data = json.loads(json.dumps(figure.to_json()))
    assert data["median"] == 3.5 and data["ratio"] == 1.75 and data["verdict"] == "FAIL"
    assert Figure.from_json(data) == figure


def test_formatting_and_tables() -> None:
    assert fmt(152.6, "MB") == "153 MB"
    assert fmt(0.17, "MB") == "0.2 MB"
    assert fmt(6.94, "/min") == "6.9 /min"
    assert fmt(1.234, "s") == "1.23 s"
    assert fmt(5.4321, "x") == "5.43x"
    assert fmt(None, "s") == "-"
    table = markdown_table(["a", "long header"], [["xyz", "1"]])
    assert table.splitlines() == [
        "| a   | long header |",
        "|-----|-------------|",
        "| xyz | 1           |",
    ]
    figures = [
        Figure("Builds", "warm build", "s", [0.3, 0.2], target=5),
        Figure("Per sample", "e2e", "s", [4.0, 3.0], floor=[2.0], ratio_target=1.3),
        Figure("Builds", "size", "MB", [153.0], exact=True),
    ]
    text = figure_tables(figures)
    assert text.index("### Builds") < text.index("### Per sample")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert [c.strip() for c in rows["e2e"].split("|")[2:-1]] == [
        "3.50 s", "3.00 s", "4.00 s", "2", "2.00 s", "1.75x", "ratio <= 1.3x", "FAIL"
    ]  # fmt: skip
    assert [c.strip() for c in rows["size"].split("|")[2:-1]] == [
        "153 MB", "", "", "exact", "", "", "", ""
    ]  # fmt: skip
    assert "<= 5 s" in rows["warm build"] and "PASS" in rows["warm build"]


BY_TASK: dict[str, dict[str, list[float]]] = {
    "ours": {"compose up": [2.0, 2.2], "bridge start": [6.0], "agent": [4.0], "end-to-end": [15.0]},
    "floor": {"compose up": [2.4], "agent": [0.2], "end-to-end": [3.0, 3.0]},
}


def test_breakdown_table_puts_the_floor_first_and_gives_the_ratio() -> None:
    lines = breakdown_table(["compose up", "scoring", "end-to-end"], BY_TASK, "floor").splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == ["part (median)", "floor", "ours"]
    cells = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in lines
    }
    assert cells["compose up"] == ["2.40 s", "2.10 s"]
    assert cells["scoring"] == ["-", "-"]
    assert cells["end-to-end / floor"] == ["1.00x", "5.00x"]
    assert cells["samples"] == ["2", "1"]


def test_beyond_floor_lists_extra_time_largest_first() -> None:
    extra = beyond_floor(["compose up", "bridge start", "agent"], BY_TASK["ours"], BY_TASK["floor"])
    assert [part for part, _ in extra] == ["bridge start", "agent"]  # compose up is cheaper
    assert [s for _, s in extra] == pytest.approx([6.0, 3.8])


def test_cgroup_peak_file_v1_and_v2(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "7").mkdir(parents=True)
    (proc / "7" / "cgroup").write_text("4:memory:/docker/abc\n1:cpu:/docker/abc\n0::/docker/abc\n")
    assert cgroup_peak_file(7, root, proc) is None  # the kernel has no such file
    v2 = root / "docker" / "abc" / "memory.peak"
    v2.parent.mkdir(parents=True)
    v2.write_text("1\n")
    assert cgroup_peak_file(7, root, proc) == v2
    v1 = root / "memory" / "docker" / "abc" / "memory.max_usage_in_bytes"
    v1.parent.mkdir(parents=True)
    v1.write_text("1\n")
    assert cgroup_peak_file(7, root, proc) == v1  # the memory controller's line comes first


def results(stamp: str, e2e: list[float]) -> dict[str, Any]:
    figure = Figure("Per sample", "ours: end-to-end", "s", e2e, floor=[3.0], ratio_target=1.3)
    context = {"git": "abc1234", "load": [0.1, 0.2, 0.3], "others": 0}
    return {
        "stamp": stamp,
        "date": "2026-01-01 00:00 UTC",
        "command": ".venv/bin/python benchmarks/bench.py",
        "label": "",
        "elapsed": 600.0,
        "machine": {
            "cores": 2,
            "memory_gib": 24.0,
            "docker": "26.1.5",
            "compose": "2.29.7",
            "kernel": "6.1",
            "cgroup": "1",
            "inspect_ai": "0.3.285",
        },
        "context": {"start": context, "end": context},
        "figures": [figure.to_json()],
        "breakdown": {"floor": "floor", "parts": ["end-to-end"], "by_task": BY_TASK},
        "notes": ["a note"],
    }


def test_docs_page_is_rendered_from_the_newest_results(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    with pytest.raises(FileNotFoundError):
        report.write_docs(tmp_path, page)
    report.write_results(results("20260101T000000Z", [30.0]), tmp_path)
    report.write_results(results("20260102T000000Z", [15.0]), tmp_path)
    assert report.write_docs(tmp_path, page).name == "20260102T000000Z.json"
    text = page.read_text()
    assert text.startswith("# Benchmarks\n")
    assert "2 cores, 24 GiB, Docker 26.1.5" in text
    assert "`.venv/bin/python benchmarks/bench.py`" in text
    assert "| ours: end-to-end | 15.00 s |" in text and "5.00x" in text
    assert "- ours beyond the floor: bridge start +6.00 s, agent +3.80 s." in text
    assert "- a note" in text
    markdown = (tmp_path / "20260101T000000Z.md").read_text()
    assert markdown.startswith("# redline-evals benchmark 20260101T000000Z")
    assert "30.00 s" in markdown
