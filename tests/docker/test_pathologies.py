"""Every family against what real models do wrong (`redline/chaos`, issue 12): each run ends
scored (success 0) when the model produced any output, or unscored with `no_model_output` when
it produced none, and never errors.

Every family plays `all` (duplicate calls, malformed JSON arguments, an echo of the system prompt
and prose cut off at the token cap, then a hang until the time limit) and the two replies that
end an episode, `prose` and `empty`, each in its own sample; self_replication also plays the hang
alone (a model that never answers). One `eval()` runs them all at once. The other pathologies
alone are checked without Docker (tests/unit/providers/test_chaos.py)."""

from __future__ import annotations

import math
import time
from functools import partial

import pytest
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import ChatMessageAssistant
from support.evals import control, explanation, run_controls

from redline_evals.controls import Run, make_task
from redline_evals.harness.episode import CUT_OFF_NUDGE
from redline_evals.judging.stats import tool_call_counts
from redline_evals.providers.chaos import DUPLICATES
from redline_evals.spec import families, load_spec

HANG_LIMIT = 120
"""`-T time_limit` of a run that hangs: it ends the episode. It also covers setup (which can
take a minute on 2 overloaded cores), and Inspect gives scoring half of it."""

EVERY_FAMILY = ("all", "prose", "empty")
ONE_FAMILY = "self_replication"
ALONE = ("hang",)

RUNS = [(family, p) for family in families() for p in EVERY_FAMILY] + [
    (ONE_FAMILY, p) for p in ALONE
]

pytestmark = pytest.mark.timeout(1800)


def _run(family: str, pathology: str) -> Run:
    hangs = pathology in ("all", "hang")
    spec = load_spec(family)  # at the family's control setting (controls_task), as its controls
    return Run(
        name=f"{family}-{pathology}",
        model="redline/chaos",
        epochs=1,
        model_args={"pathology": pathology},
        task_args={**spec.controls_task, **({"time_limit": HANG_LIMIT} if hangs else {})},
        expect={spec.success: 0},
    )


@pytest.fixture(scope="module")
def logs(docker_ready: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, EvalLog]:
    runs = {(f, p): _run(f, p) for f, p in RUNS}
    started = time.monotonic()
    result = run_controls(
        partial(make_task, ONE_FAMILY, runs[ONE_FAMILY, "all"]),
        {
            run.name: control(run.model, task=partial(make_task, family, run), **run.model_args)
            for (family, _), run in runs.items()
        },
        tmp_path_factory.mktemp("pathologies"),
    )
    print(f"\n{len(runs)} pathology runs in {time.monotonic() - started:.0f} s")
    return result


def _sample(log: EvalLog) -> EvalSample:
    error = log.error.message if log.error else None
    assert log.status == "success", f"{log.eval.task}: {log.status} {error}"
    [sample] = log.samples or []
    assert sample.error is None, f"{log.eval.task}: {sample.error.message}"
    return sample


def _played(sample: EvalSample) -> bool:
    """Whether the evaluated model said or called anything (read from the conversation)."""
    return any(
        m.text.strip() or m.tool_calls
        for m in sample.messages
        if isinstance(m, ChatMessageAssistant)
    )


@pytest.mark.parametrize(("family", "pathology"), RUNS, ids=[f"{f}/{p}" for f, p in RUNS])
def test_scored_zero_or_unscored_never_errored(
    logs: dict[str, EvalLog], family: str, pathology: str
) -> None:
    sample = _sample(logs[f"{family}-{pathology}"])
    score = next(iter((sample.scores or {}).values()))
    why = explanation(sample)
    if _played(sample):
        assert isinstance(score.value, dict), f"unscored: {why}"
        assert score.value[load_spec(family).success] == 0, why
        assert score.value["refused"] == 0, why
    else:
        assert isinstance(score.value, float) and math.isnan(score.value), why
        assert score.reason == "no_model_output", why
    if pathology in ("all", "hang"):
        assert sample.limit is not None and sample.limit.type == "time", sample.limit


def test_a_hang_alone_or_an_empty_reply_alone_is_a_trial_never_played(
    logs: dict[str, EvalLog],
) -> None:
    for pathology in ("hang", "empty"):
        score = next(iter((_sample(logs[f"{ONE_FAMILY}-{pathology}"]).scores or {}).values()))
        assert score.reason == "no_model_output", pathology


@pytest.mark.parametrize("family", families())
def test_all_plays_every_pathology_in_one_episode(logs: dict[str, EvalLog], family: str) -> None:
    sample = _sample(logs[f"{family}-all"])
    replies = [m for m in sample.messages if isinstance(m, ChatMessageAssistant)]
    assert len(replies) == 4, [m.text[:60] for m in replies]  # the fifth call hung
    assert tool_call_counts(sample.messages) == (DUPLICATES, 1)
    nudges = [m for m in sample.messages if m.role == "user" and m.text == CUT_OFF_NUDGE]
    assert len(nudges) == 2  # after the echo and after the cut-off prose
    why = explanation(sample)
    assert f"time limit ({HANG_LIMIT})" in why, why
