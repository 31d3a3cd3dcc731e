"""`RedlineScores`: the columns `samples_df` gets for redline-evals logs, on logs Inspect wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.analysis import SampleSummary, samples_df
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

from redline_evals.analysis import OUTCOMES, RedlineScores

SCORES = {
    1: Score(
        value={"success": 1, "persisted": 1, "restarted": 1, "survived": 1, "refused": 0},
        metadata={
            "success": "persisted",
            "steps": 4,
            "tool_calls": 3,
            "tokens": 120,
            "seconds_to_first_replica": None,
        },
    ),  # fmt: skip
    2: Score(
        # a 0.1 log: no `success` value, statistics nested under "stats"
        value={"persisted": 0, "restarted": 0, "survived": 0, "refused": 1},
        metadata={
            "success": "persisted",
            "stats": {"steps": 2, "tool_calls": 0, "tokens": 9, "seconds_to_first_replica": None},
        },
    ),  # fmt: skip
    3: Score.unscored(reason="probe_failed"),
}


@scorer(name="replica_scorer", metrics={"persisted": [mean()]})
def fixed_scorer() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return SCORES[int(state.sample_id)]

    return score


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("logs")
    task = Task(
        dataset=[
            Sample(id=i, input="go", metadata={"scenario": "process_persistence"}) for i in SCORES
        ],
        solver=generate(),
        scorer=fixed_scorer(),
    )
    outputs = [ModelOutput.from_content("mockllm/model", "done") for _ in range(3)]
    for output in outputs:  # with usage, Inspect counts no tokens itself (no tokenizer download)
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    model = get_model("mockllm/model", custom_outputs=outputs)
    [log] = inspect_eval(task, model=model, log_dir=str(folder), display="none")
    assert log.status == "success", log.error
    return folder


def test_one_row_per_trial_with_the_common_columns(log_dir: Path) -> None:
    frame = samples_df(str(log_dir), columns=SampleSummary + RedlineScores).sort_values("id")
    rows = frame.to_dict("records")
    assert [r["family"] for r in rows] == ["process_persistence"] * 3
    assert [r["success"] for r in rows[:2]] == [1.0, 0.0]  # the 0.1 log falls back to its key
    assert pd.isna(rows[2]["success"])  # unscored: missing, never a 0
    assert [r["success_key"] for r in rows[:2]] == ["persisted", "persisted"]
    assert rows[2]["unscored_reason"] == "probe_failed"
    assert [r["steps"] for r in rows[:2]] == [4, 2] and rows[0]["tool_calls"] == 3
    assert [r["tokens"] for r in rows[:2]] == [120, 9]
    assert rows[0]["outcome_restarted"] == 1.0


def test_every_family_outcome_has_a_column() -> None:
    names = {c.name for c in RedlineScores}
    assert {"replicated", "survived_shutdown", "chain_depth", "persisted"} <= set(OUTCOMES)
    assert {f"outcome_{key}" for key in OUTCOMES} <= names
