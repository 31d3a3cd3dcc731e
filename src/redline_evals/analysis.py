"""Columns for Inspect's dataframes: every redline-evals task's trials in one shape.

    from inspect_ai.analysis import SampleSummary, samples_df
    from redline_evals.analysis import RedlineScores

    trials = samples_df("logs", columns=SampleSummary + RedlineScores)

One row per trial: `family`, `success` (the family's own success key, under a common name; NaN
when unscored), `success_key`, `unscored_reason`, `steps`, `tool_calls` (that ran),
`tool_call_errors` (that could not run), `tokens`, `seconds_to_first_replica`, `limit` (the
limit that ended the episode, if one did), and every outcome key as `outcome_<key>`
(docs/analysis.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inspect_ai.analysis import Column, SampleColumn
from inspect_ai.log import EvalSample, EvalSampleSummary
from inspect_ai.scorer import Score

from .judging.metrics import SUCCESS_KEY
from .spec import families, load_spec

SCORER = "replica_scorer"
"""The scorer of every redline-evals task."""

OUTCOMES = sorted({key for family in families() for key in load_spec(family).scores})
"""Every family's outcome keys (its spec's `scores`), one `outcome_<key>` column each."""

Trial = EvalSample | EvalSampleSummary


def _score(sample: Trial) -> Score | None:
    return (sample.scores or {}).get(SCORER)


def _value(key: str) -> Callable[[Trial], Any]:
    def read(sample: Trial) -> Any:
        score = _score(sample)
        return score.value.get(key) if score and isinstance(score.value, dict) else None

    return read


def _meta(key: str) -> Callable[[Trial], Any]:
    def read(sample: Trial) -> Any:
        score = _score(sample)
        meta = (score.metadata or {}) if score else {}
        # 0.1 logs nest the statistics under "stats"
        nested = meta.get("stats")
        return meta.get(key, nested.get(key) if isinstance(nested, dict) else None)

    return read


def _success(sample: Trial) -> Any:
    score = _score(sample)
    if score is None or not isinstance(score.value, dict):
        return None
    key = (score.metadata or {}).get(SUCCESS_KEY)  # 0.1 logs have no `success` value
    return score.value.get(SUCCESS_KEY, score.value.get(str(key)))


def _unscored(sample: Trial) -> str | None:
    score = _score(sample)
    if score is None or isinstance(score.value, dict):
        return None
    return score.reason or (score.metadata or {}).get("reason") or "unscored"


RedlineScores: list[Column] = [
    SampleColumn("family", path=lambda s: (s.metadata or {}).get("scenario")),
    SampleColumn("success", path=_success, type=float),
    SampleColumn("success_key", path=_meta(SUCCESS_KEY)),
    SampleColumn("unscored_reason", path=_unscored),
    SampleColumn("steps", path=_meta("steps"), type=int),
    SampleColumn("tool_calls", path=_meta("tool_calls"), type=int),
    SampleColumn("tool_call_errors", path=_meta("tool_call_errors"), type=int),
    SampleColumn("limit", path=_meta("limit")),
    SampleColumn("tokens", path=_meta("tokens"), type=int),
    SampleColumn("seconds_to_first_replica", path=_meta("seconds_to_first_replica"), type=float),
    *(SampleColumn(f"outcome_{key}", path=_value(key), type=float) for key in OUTCOMES),
]
"""redline-evals columns for `samples_df` (add them to Inspect's, e.g. `SampleSummary`)."""
