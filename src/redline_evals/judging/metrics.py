"""Rates with honest uncertainty over trials: Wilson intervals and unbiased pass@k.

Every task reports its family's success key under the common name `success` with two
metrics on the whole score: `success()` (the rate, the task's headline metric) and
`success_trials()` (`ci_low`, `ci_high`: the 95% Wilson interval over all trials; `pass_at_1`,
`pass_at_10`), short names that read at any terminal width and in `evals_df`. Each score key
then gets its `mean`.

A trial is one epoch of one sample. `wilson_lower()`, `wilson_upper()`, `pass_at_1()` and
`pass_at_10()` are declared `@metric(scores="unreduced")`: Inspect hands them one score per
sample per epoch, whatever `--epochs-reducer` says, so they count trials and successes
themselves and are right under any reducer (or none). The `trials` reducer is the tasks'
default: a mean over epochs that also records how many epochs were scored.
"""

from __future__ import annotations

import math
import statistics

from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    ScoreReducer,
    mean_score,
    metric,
    score_reducer,
)

Z_95 = 1.959963984540054

SUCCESS_KEY = "success"
"""The score key that repeats the family's own success key (`replicated`, `persisted`, ...)."""


@score_reducer(name="trials")
def trials() -> ScoreReducer:
    """Mean over epochs, keeping the number of scored epochs in `metadata["trials"]`."""
    mean = mean_score()

    def reduce(scores: list[Score]) -> Score:
        reduced = mean(scores)
        scored = [s for s in scores if not _unscored(s)]
        reduced.metadata = {**(reduced.metadata or {}), "trials": len(scored)}
        return reduced

    return reduce


def _unscored(score: Score) -> bool:
    return isinstance(score.value, float) and math.isnan(score.value)


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of `successes` in `trials` (0..1 for no trials).

    Clamped so that `0 <= low <= successes / trials <= high <= 1` holds exactly in floating
    point (unclamped, 10 of 10 gives an upper bound of 0.9999999999999999, below the rate,
    and 0 of 3 a lower bound of 5.6e-17, above it).

    Raises:
        ValueError: If `successes` is not between 0 and `trials`.
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes in {trials} trials")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def trial_counts(scores: list[SampleScore], metric: str = "metric") -> dict[str, tuple[int, int]]:
    """Sample id -> (scored trials, successes), from one 0/1 score per sample and epoch.

    Unscored trials (NaN) are left out. A score without a sample id is a sample of its own.

    Raises:
        ValueError: If a score is not 0 or 1: the key is not a 0/1 key, or the scores were
            reduced over epochs (inside Inspect, `@metric(scores="unreduced")` prevents that).
    """
    counts: dict[str, tuple[int, int]] = {}
    for index, sample in enumerate(scores):
        value = sample.score.as_float()
        if math.isnan(value):
            continue
        if value not in (0.0, 1.0):
            raise ValueError(
                f"redline_evals/{metric} needs one 0/1 score per trial, got {value!r} "
                f"(sample {sample.sample_id!r}): attach it only to 0/1 score keys"
            )
        key = f"id:{sample.sample_id}" if sample.sample_id is not None else f"#{index}"
        n, c = counts.get(key, (0, 0))
        counts[key] = (n + 1, c + int(value))
    return counts


def _pooled(scores: list[SampleScore], metric: str) -> tuple[int, int]:
    """(successes, trials) over all trials of all samples."""
    counts = trial_counts(scores, metric).values()
    return sum(c for _, c in counts), sum(n for n, _ in counts)


@metric(scores="unreduced")
def wilson_lower() -> Metric:
    """Lower bound of the 95% Wilson interval over all trials of a 0/1 score."""

    def compute(scores: list[SampleScore]) -> float:
        return wilson_interval(*_pooled(scores, "wilson_lower"))[0]

    return compute


@metric(scores="unreduced")
def wilson_upper() -> Metric:
    """Upper bound of the 95% Wilson interval over all trials of a 0/1 score."""

    def compute(scores: list[SampleScore]) -> float:
        return wilson_interval(*_pooled(scores, "wilson_upper"))[1]

    return compute


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one sample: the chance that k of its n trials, drawn without
    replacement, include at least one of its c successes: 1 - C(n-c, k) / C(n, k).

    Raises:
        ValueError: Fewer than k trials (pass@k is undefined).
    """
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} trials, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _pass_at(scores: list[SampleScore], k: int) -> float:
    """Mean pass@k over samples with at least k scored trials; NaN when none has."""
    counts = trial_counts(scores, f"pass_at_{k}").values()
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return statistics.fmean(values) if values else math.nan


@metric(scores="unreduced")
def pass_at_1() -> Metric:
    """pass@1 over epochs (the unbiased estimator; equals the mean success rate)."""

    def compute(scores: list[SampleScore]) -> float:
        return _pass_at(scores, 1)

    return compute


@metric(scores="unreduced")
def pass_at_10() -> Metric:
    """pass@10 over epochs (unbiased estimator); NaN when no sample has 10 scored epochs."""

    def compute(scores: list[SampleScore]) -> float:
        return _pass_at(scores, 10)

    return compute


def keyed(scores: list[SampleScore], key: str) -> list[SampleScore]:
    """The scores of one key of dict-valued scores; NaN where a score has no such key (an
    unscored trial has a NaN value, not a dict)."""
    out = []
    for sample in scores:
        value = sample.score.value
        picked = value.get(key, math.nan) if isinstance(value, dict) else math.nan
        out.append(sample.model_copy(update={"score": Score(value=picked)}))
    return out


@metric
def success() -> Metric:
    """The success rate: the mean of the `success` key over scored samples (reduced over
    epochs by the task's reducer); NaN when nothing was scored."""

    def compute(scores: list[SampleScore]) -> float:
        values = [s.score.as_float() for s in keyed(scores, SUCCESS_KEY)]
        scored = [v for v in values if not math.isnan(v)]
        return statistics.fmean(scored) if scored else math.nan

    return compute


@metric(scores="unreduced")
def success_trials() -> Metric:
    """Over every trial of the `success` key, whatever the epochs reducer: its 95% Wilson
    interval (`ci_low`, `ci_high`) and the unbiased `pass_at_1` and `pass_at_10`."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        trials_ = keyed(scores, SUCCESS_KEY)
        low, high = wilson_interval(*_pooled(trials_, "success_trials"))
        return {
            "ci_low": low,
            "ci_high": high,
            "pass_at_1": _pass_at(trials_, 1),
            "pass_at_10": _pass_at(trials_, 10),
        }

    return compute
