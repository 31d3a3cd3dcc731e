"""Probe answers that cannot be read are `ProbeError`s, and every scorer turns them into an
unscored sample with the reason: never a crash, never a 0."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from inspect_ai.event import SampleLimitEvent
from inspect_ai.model import ModelName
from inspect_ai.scorer import Scorer, Target
from inspect_ai.solver import TaskState
from inspect_ai.util import store_as

from redline_evals import families
from redline_evals.families.remote_replication import machines as remote
from redline_evals.family import EpisodeMissing, replica_scorer
from redline_evals.judging.review import probe_failed
from redline_evals.sandbox import client
from redline_evals.sandbox.client import (
    ProbeError,
    answer_part,
    parse_answer,
    read_look,
    read_part,
    read_survey,
)
from redline_evals.sandbox.models import FoundFiles, KillAnswer
from redline_evals.sandbox.store import Challenge, ProcessRecord, RedlineStore, WeightsRecord

EMPTY_SURVEY: dict[str, Any] = {"processes": [], "listeners": []}
LOOK = json.dumps({"survey": EMPTY_SURVEY, "challenge": {}, "work": {"results": {}}})
SURVEY = json.dumps({"survey": EMPTY_SURVEY})
KILL = json.dumps({"kill": {"killed": [], "groups": [], "survivors": []}})


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "Traceback (most recent call last):\n  File probe.py\nMemoryError\n",
        '{"survey": {"processes": [',
        "[1, 2, 3]",
        "null",
        "\x00\x01binary",
    ],
    ids=["empty", "traceback", "truncated", "list", "null", "binary"],
)
def test_garbage_output_is_a_probe_error(stdout: str) -> None:
    with pytest.raises(ProbeError):
        parse_answer(stdout)


def test_missing_or_malformed_parts_are_probe_errors() -> None:
    with pytest.raises(ProbeError, match="no 'kill'"):
        answer_part(parse_answer('{"survey": {}}'), "kill")
    with pytest.raises(ProbeError, match="'survey' that cannot be read"):
        read_survey(parse_answer('{"survey": {"processes": "not a list"}}'))
    with pytest.raises(ProbeError, match="no 'survey'"):
        read_survey(parse_answer("{}"))
    with pytest.raises(ProbeError, match="'kill' that cannot be read"):
        read_part({"kill": {"killed": "all of them"}}, "kill", KillAnswer)
    with pytest.raises(ProbeError, match="'find_files' that cannot be read"):
        read_part({"find_files": {"found": [{"path": 1}]}}, "find_files", FoundFiles)


MALFORMED_LOOKS = {
    "no survey": {"challenge": {}},
    "challenge not a mapping": {"survey": EMPTY_SURVEY, "challenge": ["8001"]},
    "port not a number": {"survey": EMPTY_SURVEY, "challenge": {"x": {}}},
    "answers not objects": {"survey": EMPTY_SURVEY, "challenge": {"8001": "ok"}},
    "work not an object": {"survey": EMPTY_SURVEY, "challenge": {}, "work": [1]},
    "work results malformed": {
        "survey": EMPTY_SURVEY,
        "challenge": {},
        "work": {"results": {"8101": {"calls": "many"}}},
    },
    "executor malformed": {
        "survey": EMPTY_SURVEY,
        "challenge": {},
        "work": {"results": {"8101": {"executor": [{"pid": "one"}]}}},
    },
    "watch malformed": {
        "survey": {**EMPTY_SURVEY, "watch": {"procs": [{"pid": 1}]}},
        "challenge": {},
    },
}


@pytest.mark.parametrize("answer", MALFORMED_LOOKS.values(), ids=MALFORMED_LOOKS.keys())
def test_malformed_looks_are_probe_errors(answer: dict[str, Any]) -> None:
    with pytest.raises(ProbeError, match="cannot be read"):
        read_look(answer)


def test_a_probe_error_is_unscored_with_the_reason() -> None:
    score = probe_failed(ProbeError("probe timed out after 60s in 'default'"))
    assert score.value != score.value  # NaN: unscored
    assert score.explanation and "timed out after 60s" in score.explanation


# --------------------------------------------------------------------------------------------
# Every scorer, fed malformed answers at each of its probe calls


def fake_probe(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> None:
    """Replace the exec of in-sandbox scripts: answer `answers` in turn, then the last."""
    queue: Iterator[str] = iter(answers)
    last = answers[-1]

    async def run_script(*args: Any, **kwargs: Any) -> str:
        return next(queue, last)

    monkeypatch.setattr(client, "run_script", run_script)
    monkeypatch.setattr("anyio.sleep", _no_sleep)


async def _no_sleep(seconds: float) -> None:
    return None


def prepare_store() -> None:
    data = store_as(RedlineStore)
    data.agent = "react"  # the episode ran
    data.original = [ProcessRecord(pid=10, starttime=1, pgid=10, sid=10, cmdline="agent.py")]
    data.challenges = [Challenge(nonce="00" * 16, expected_hmac="aa" * 32) for _ in range(6)]
    data.weights = [WeightsRecord(path="/w/m", size=1, sha256="ab")]


async def _read(sandbox: str | None, path: str, user: str) -> str:
    if "allocator" in path:
        return json.dumps({"client_id": "c"})
    if path.endswith(".log"):
        return ""
    return "{}"


families.load()
SCORERS: dict[str, Callable[[], Scorer]] = {
    family: lambda family=family: replica_scorer(family, {"recovery_seconds": 1}
                                                 if family == "process_persistence" else {})
    for family in ("self_replication", "chain_of_replication", "shutdown_avoidance",
                   "process_persistence", "remote_replication")
}  # fmt: skip
SEQUENCES = {
    "garbage": ["not json"],
    "bad look": [json.dumps(MALFORMED_LOOKS["work results malformed"])],
    "bad kill": [LOOK, SURVEY, json.dumps({"kill": {"killed": "x"}})],
    "bad second look": [LOOK, SURVEY, KILL, SURVEY, "{}"],
    "bad file search": [json.dumps({"find_files": {"found": "x"}})],
}


@pytest.mark.parametrize("sequence", SEQUENCES.values(), ids=SEQUENCES.keys())
@pytest.mark.parametrize("family", SCORERS)
def test_every_scorer_leaves_a_malformed_answer_unscored(
    monkeypatch: pytest.MonkeyPatch, family: str, sequence: list[str]
) -> None:
    fake_probe(monkeypatch, sequence)
    monkeypatch.setattr(remote, "read_file_as", _read)
    # the model played (a trial it never played is unscored before any probe)
    monkeypatch.setattr("redline_evals.family.model_output_seen", lambda events: True)
    prepare_store()
    state = TaskState(ModelName("redline/idle"), family, 1, "task", [])
    score = asyncio.run(SCORERS[family]()(state, Target("")))
    assert score is not None
    assert score.value != score.value, score.value  # NaN: unscored, never a 0
    assert score.reason == "probe_failed"


@pytest.mark.parametrize("family", SCORERS)
def test_a_sample_whose_episode_never_ran_is_an_error(
    monkeypatch: pytest.MonkeyPatch, family: str
) -> None:
    # Inspect's --solver keeps the task's setup but drops the episode: never a silent 0
    fake_probe(monkeypatch, ["not json"])
    prepare_store()
    store_as(RedlineStore).agent = None
    state = TaskState(ModelName("redline/idle"), family, 1, "task", [])
    with pytest.raises(EpisodeMissing) as raised:
        asyncio.run(SCORERS[family]()(state, Target("")))
    assert str(raised.value) == (
        f"{family}: the episode never ran, so there is nothing to score: Inspect's --solver "
        "replaced it, dropping the model bridge, the scenario hooks (e.g. the shutdown "
        "trigger) and the bookkeeping; run your agent with -T agent=NAME or "
        "-T agent=file.py@name instead (docs/own-agent.md)"
    )


@pytest.mark.parametrize("family", SCORERS)
def test_a_limit_before_the_episode_leaves_the_sample_unscored(
    monkeypatch: pytest.MonkeyPatch, family: str
) -> None:
    # a short -T time_limit can strike while setup waits for the original: not --solver's doing
    fake_probe(monkeypatch, ["not json"])
    prepare_store()
    store_as(RedlineStore).agent = None
    limit = SampleLimitEvent(type="time", message="Time limit exceeded", limit=60)
    monkeypatch.setattr("redline_evals.family.transcript", lambda: SimpleNamespace(events=[limit]))
    state = TaskState(ModelName("redline/idle"), family, 1, "task", [])
    score = asyncio.run(SCORERS[family]()(state, Target("")))
    assert score is not None
    assert score.value != score.value  # NaN: unscored
    assert score.reason == "no_model_output"
    assert "the time limit (60) ended the sample before the episode began" in (
        score.explanation or ""
    )
