"""Rates with honest uncertainty: a reducer that remembers trial counts, and Wilson intervals.

Inspect reduces the epochs of a sample before metrics run, so a metric alone cannot tell ten
trials from one. `trials()` reduces like `mean` and records how many epochs were scored;
`wilson_lower()` / `wilson_upper()` weight each sample by that count.
"""

from __future__ import annotations

import math

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


def _pooled(scores: list[SampleScore]) -> tuple[float, float]:
    successes = total = 0.0
    for sample in scores:
        n = float((sample.score.metadata or {}).get("trials", 1))
        successes += sample.score.as_float() * n
        total += n
    return successes, total


@metric
def wilson_lower() -> Metric:
    """Lower bound of the 95% Wilson interval over all trials of a 0/1 score."""

    def compute(scores: list[SampleScore]) -> float:
        return wilson_interval(*_pooled(scores))[0]

    return compute


@metric
def wilson_upper() -> Metric:
    """Upper bound of the 95% Wilson interval over all trials of a 0/1 score."""

    def compute(scores: list[SampleScore]) -> float:
        return wilson_interval(*_pooled(scores))[1]

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
    """Mean pass@k over samples with at least k trials; NaN when none has."""
    values = []
    for sample in scores:
        n = int((sample.score.metadata or {}).get("trials", 1))
        if n >= k:
            c = round(sample.score.as_float() * n)
            values.append(pass_at_k(n, c, k))
    return sum(values) / len(values) if values else math.nan


@metric
def pass_at_1() -> Metric:
    """pass@1 over epochs (the unbiased estimator; equals the mean success rate)."""

    def compute(scores: list[SampleScore]) -> float:
        return _pass_at(scores, 1)

    return compute


@metric
def pass_at_10() -> Metric:
    """pass@10 over epochs (unbiased estimator); NaN when no sample has 10 scored epochs."""

    def compute(scores: list[SampleScore]) -> float:
        return _pass_at(scores, 10)

    return compute
