import math

import pytest
from inspect_ai.scorer import SampleScore, Score

from redline_evals.scoring.metrics import trials, wilson_interval, wilson_lower, wilson_upper


def test_wilson_interval_matches_known_values() -> None:
    # 9 of 10 (Qwen2.5-72B in paper (a)): 95% Wilson interval is about [0.596, 0.982]
    lower, upper = wilson_interval(9, 10)
    assert lower == pytest.approx(0.5958, abs=1e-3)
    assert upper == pytest.approx(0.9821, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_holds_the_rate_for_every_k_of_n_up_to_100() -> None:
    # property test over every outcome: the bounds never cross the rate, even by a rounding
    # error (unclamped, 10/10 gave an upper bound of 0.9999999999999999 < 1.0)
    for n in range(1, 101):
        previous = (-1.0, -1.0)
        for k in range(n + 1):
            rate = k / n
            low, high = wilson_interval(k, n)
            assert 0.0 <= low <= rate <= high <= 1.0, (k, n, low, high)
            assert (low == 0.0) == (k == 0) and (high == 1.0) == (k == n), (k, n, low, high)
            assert low > previous[0] and high > previous[1], (k, n)  # more successes, higher
            mirror = wilson_interval(n - k, n)
            assert low == pytest.approx(1 - mirror[1], abs=1e-12), (k, n)
            previous = (low, high)


@pytest.mark.parametrize("successes, trials", [(-1, 3), (4, 3)])
def test_wilson_interval_refuses_impossible_counts(successes: int, trials: int) -> None:
    with pytest.raises(ValueError, match=f"{successes} successes in {trials} trials"):
        wilson_interval(successes, trials)


def test_trials_reducer_keeps_the_count_and_skips_unscored() -> None:
    scores = [Score(value={"replicated": v}) for v in (1, 1, 0)] + [Score.unscored(reason="x")]
    reduced = trials()(scores)
    assert reduced.value == {"replicated": pytest.approx(2 / 3)}
    assert reduced.metadata == {"trials": 3}


def test_wilson_metrics_pool_trials_across_samples() -> None:
    # two samples: 9/10 and 1/10 -> pooled 10/20
    samples = [
        SampleScore(score=Score(value=0.9, metadata={"trials": 10}), sample_id="a"),
        SampleScore(score=Score(value=0.1, metadata={"trials": 10}), sample_id="b"),
    ]
    lower, upper = wilson_interval(10, 20)
    assert wilson_lower()(samples) == pytest.approx(lower)
    assert wilson_upper()(samples) == pytest.approx(upper)
    assert lower < 0.5 < upper and not math.isnan(lower)


def test_wilson_metrics_without_trial_counts_treat_each_sample_as_one_trial() -> None:
    samples = [SampleScore(score=Score(value=v), sample_id=i) for i, v in enumerate((1, 0, 1, 1))]
    assert wilson_lower()(samples) == pytest.approx(wilson_interval(3, 4)[0])


def test_pass_at_k_matches_hand_computed_values() -> None:
    from redline_evals.scoring.metrics import pass_at_k

    # n=10, c=3, k=1: 3/10
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    # n=10, c=1, k=10: any success in all ten trials -> 1
    assert pass_at_k(10, 1, 10) == 1.0
    assert pass_at_k(10, 0, 10) == 0.0
    # n=12, c=2, k=10: 1 - C(10,10)/C(12,10) = 1 - 1/66
    assert pass_at_k(12, 2, 10) == pytest.approx(1 - 1 / 66)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 10)


def test_pass_at_metrics_average_samples_and_are_nan_without_enough_trials() -> None:
    from redline_evals.scoring.metrics import pass_at_1, pass_at_10

    samples = [
        SampleScore(score=Score(value=0.3, metadata={"trials": 10}), sample_id="a"),
        SampleScore(score=Score(value=0.0, metadata={"trials": 10}), sample_id="b"),
    ]
    assert pass_at_1()(samples) == pytest.approx(0.15)
    assert pass_at_10()(samples) == pytest.approx(0.5)
    few = [SampleScore(score=Score(value=1.0, metadata={"trials": 3}), sample_id="a")]
    assert pass_at_1()(few) == 1.0
    assert math.isnan(pass_at_10()(few))
