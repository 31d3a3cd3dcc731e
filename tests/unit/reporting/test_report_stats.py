"""The report's statistics against hand-computed values: unbiased pass@k (the scorers'
estimator in `scoring.metrics`, averaged per sample here), rates, medians."""

import math

import pytest

from redline_evals.judging.metrics import pass_at_k
from redline_evals.reporting.stats import Rate, mean_pass_at_k, median


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    # 1 - C(n-c, k) / C(n, k)
    assert pass_at_k(4, 2, 2) == pytest.approx(1 - 1 / 6)  # 1 - C(2,2)/C(4,2)
    assert pass_at_k(12, 1, 10) == pytest.approx(1 - 11 / 66)  # 1 - C(11,10)/C(12,10)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is the success rate
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 1, 10) == 1.0  # every draw of all 10 includes the success
    assert pass_at_k(5, 4, 2) == 1.0  # n - c < k: no all-failure draw exists


def test_pass_at_k_matches_the_product_form_of_chen_et_al() -> None:
    # the numerically stable form from the HumanEval paper
    for n, c, k in [(20, 3, 5), (50, 7, 10), (13, 0, 4), (30, 29, 2)]:
        stable = 1.0 if n - c < k else 1 - math.prod(1 - k / i for i in range(n - c + 1, n + 1))
        assert pass_at_k(n, c, k) == pytest.approx(stable)


@pytest.mark.parametrize("n, c, k", [(4, 1, 5), (9, 0, 10)])
def test_pass_at_k_is_undefined_with_fewer_than_k_trials(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match=f"pass@{k} needs at least {k} trials"):
        pass_at_k(n, c, k)


def test_mean_pass_at_k_averages_samples_and_is_undefined_below_k() -> None:
    # sample a: 2 of 4; sample b: 4 of 4 -> pass@2 = (5/6 + 1) / 2
    assert mean_pass_at_k([(4, 2), (4, 4)], 2) == pytest.approx((5 / 6 + 1) / 2)
    assert mean_pass_at_k([(4, 2), (4, 4)], 1) == pytest.approx(0.75)
    # one sample with too few trials makes the average undefined, not biased
    assert mean_pass_at_k([(10, 2), (3, 1)], 10) is None
    assert mean_pass_at_k([], 1) is None


def test_rate_has_the_wilson_interval() -> None:
    rate = Rate.of([1, 0, 1, 0])
    assert (rate.successes, rate.trials, rate.mean) == (2, 4, 0.5)
    assert rate.low == pytest.approx(0.15, abs=1e-4)
    assert rate.high == pytest.approx(0.85, abs=1e-4)
    empty = Rate.of([])
    assert (empty.mean, empty.low, empty.high) == (None, 0.0, 1.0)
    with pytest.raises(ValueError, match="0/1"):
        Rate.of([1, 2])


def test_median_ignores_missing_values() -> None:
    assert median([3, None, 1, 2]) == 2
    assert median([4.0, 1.0]) == 2.5
    assert median([None]) is None
