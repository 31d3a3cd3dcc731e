import math
from collections.abc import Callable
from pathlib import Path

import pytest
from inspect_ai import Epochs, Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, mean, scorer
from inspect_ai.scorer._metric import metric_scores
from inspect_ai.solver import TaskState, generate

from redline_evals.judging.metrics import (
    pass_at_1,
    pass_at_10,
    success,
    success_trials,
    trials,
    wilson_interval,
    wilson_lower,
    wilson_upper,
)


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


def trial_scores(**outcomes: list[float]) -> list[SampleScore]:
    """One SampleScore per sample and epoch, as Inspect gives a `scores="unreduced"` metric."""
    return [
        SampleScore(score=Score(value=value), sample_id=sample)
        for sample, values in outcomes.items()
        for value in values
    ]


def test_wilson_metrics_pool_trials_across_samples() -> None:
    # two samples: 9/10 and 1/10 -> pooled 10/20
    samples = trial_scores(a=[1] * 9 + [0], b=[1] + [0] * 9)
    lower, upper = wilson_interval(10, 20)
    assert wilson_lower()(samples) == pytest.approx(lower)
    assert wilson_upper()(samples) == pytest.approx(upper)
    assert lower < 0.5 < upper and not math.isnan(lower)


def test_wilson_metrics_leave_unscored_trials_out() -> None:
    samples = trial_scores(a=[1, 0, 1, 1, math.nan])  # 3 of 4 scored trials, not 3 of 5
    assert wilson_lower()(samples) == wilson_interval(3, 4)[0]
    assert wilson_upper()(samples) == wilson_interval(3, 4)[1]
    assert (wilson_lower()([]), wilson_upper()([])) == (0.0, 1.0)


def test_metrics_are_declared_to_see_every_trial() -> None:
    # Inspect then hands them one score per sample per epoch, whatever the epochs reducer
    for metric in (wilson_lower(), wilson_upper(), pass_at_1(), pass_at_10()):
        assert metric_scores(metric) == "unreduced"


@pytest.mark.parametrize("metric", [wilson_lower, wilson_upper, pass_at_1, pass_at_10])
def test_metrics_refuse_a_score_that_is_not_one_trial(metric: Callable[[], Metric]) -> None:
    # a mean over epochs (or a count) cannot be split back into trials: say so, never guess
    with pytest.raises(ValueError, match=r"needs one 0/1 score per trial, got 0\.7 \(sample 'a'\)"):
        metric()(trial_scores(a=[0.7]))


def test_pass_at_k_matches_hand_computed_values() -> None:
    from redline_evals.judging.metrics import pass_at_k

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
    samples = trial_scores(a=[1, 1, 1] + [0] * 7, b=[0] * 10)
    assert pass_at_1()(samples) == pytest.approx(0.15)
    assert pass_at_10()(samples) == pytest.approx(0.5)
    few = trial_scores(a=[1, 1, 1])
    assert pass_at_1()(few) == 1.0
    assert math.isnan(pass_at_10()(few))
    # a sample with fewer than 10 scored trials is left out of pass@10 (an unscored one too)
    mixed = trial_scores(a=[0] * 9 + [math.nan], b=[1] + [0] * 9)
    assert pass_at_10()(mixed) == 1.0
    assert pass_at_1()(mixed) == pytest.approx((0 + 0.1) / 2)


# --- through Inspect: the same numbers under every epochs reducer ------------------------------

# sample a replicates in epochs 1-3 of 10; sample b never, and its last epoch is unscored
OUTCOMES = {"a": [1, 1, 1] + [0] * 7, "b": [0] * 9 + [None]}


@scorer(metrics={"replicated": [mean(), wilson_lower(), wilson_upper(), pass_at_1(), pass_at_10()]})
def outcome_scorer() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        value = OUTCOMES[str(state.sample_id)][state.epoch - 1]
        return (
            Score.unscored(reason="probe_failed")
            if value is None
            else Score(value={"replicated": value})
        )

    return score


@scorer(metrics=[success(), success_trials(), {"replicated": [mean()]}])
def headline_scorer() -> Scorer:
    """A redline-shaped scorer: the success key repeated under `success`."""

    async def score(state: TaskState, target: Target) -> Score:
        value = OUTCOMES[str(state.sample_id)][state.epoch - 1]
        return (
            Score.unscored(reason="probe_failed")
            if value is None
            else Score(value={"success": value, "replicated": value})
        )

    return score


def run_outcomes(scorer_: Scorer, reducer: str, log_dir: Path) -> dict[str, float]:
    """Every metric of an eval of OUTCOMES under `reducer`, by `<score name>.<metric>`."""
    outputs = []
    for _ in range(20):
        output = ModelOutput.from_content("mockllm/model", "done")
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        outputs.append(output)
    task = Task(
        dataset=[Sample(id=sample, input="go") for sample in OUTCOMES],
        solver=generate(),
        scorer=scorer_,
    )
    reducers = {"trials": [trials()], "none": []}.get(reducer, [reducer])
    [log] = inspect_eval(
        task,
        model=get_model("mockllm/model", custom_outputs=outputs),
        epochs=Epochs(10, reducers),
        log_dir=str(log_dir),
        display="none",
    )
    assert log.status == "success", log.error
    assert log.results is not None
    return {
        f"{score.name}.{name}": metric.value
        for score in log.results.scores
        for name, metric in score.metrics.items()
    }


@pytest.mark.timeout(120)
@pytest.mark.parametrize("reducer", ["trials", "mean", "none"])
def test_the_headline_metrics_have_short_names_and_count_trials(
    reducer: str, tmp_path: Path
) -> None:
    metrics = run_outcomes(headline_scorer(), reducer, tmp_path)
    low, high = wilson_interval(3, 19)  # 3 successes in 19 scored trials, pooled
    assert metrics["headline_scorer.ci_low"] == pytest.approx(low)
    assert metrics["headline_scorer.ci_high"] == pytest.approx(high)
    assert metrics["headline_scorer.pass_at_1"] == pytest.approx((0.3 + 0) / 2)
    assert metrics["headline_scorer.pass_at_10"] == 1.0
    # the rate follows the reducer: a mean of per-sample means, or of every trial with none
    rate = 3 / 19 if reducer == "none" else (0.3 + 0) / 2
    assert metrics["headline_scorer.success"] == pytest.approx(rate)
    assert metrics["replicated.mean"] == pytest.approx(rate)


def test_success_skips_unscored_trials_and_is_nan_without_any() -> None:
    unscored = SampleScore(score=Score(value=math.nan), sample_id="x")
    scored = SampleScore(score=Score(value={"success": 1, "replicated": 1}), sample_id="y")
    assert success()([unscored, scored]) == 1.0
    assert math.isnan(success()([unscored]))
    assert success_trials()([unscored]) == {
        "ci_low": 0.0,
        "ci_high": 1.0,
        "pass_at_1": pytest.approx(math.nan, nan_ok=True),
        "pass_at_10": pytest.approx(math.nan, nan_ok=True),
    }


@pytest.mark.timeout(120)
@pytest.mark.parametrize("reducer", ["trials", "mean", "max", "median", "mode", "none"])
def test_metrics_count_trials_under_every_epochs_reducer(reducer: str, tmp_path: Path) -> None:
    # before: with --epochs-reducer mean each sample counted as one trial (interval [0.10, 0.98]
    # for 7/10), pass@1 rounded a mean of 0.7 up to 1 and pass@10 was NaN, with no warning
    found = run_outcomes(outcome_scorer(), reducer, tmp_path)
    metrics = {k.removeprefix("replicated."): v for k, v in found.items()}
    low, high = wilson_interval(3, 19)  # 3 successes in 19 scored trials, pooled
    assert metrics["redline_evals/wilson_lower"] == pytest.approx(low)
    assert metrics["redline_evals/wilson_upper"] == pytest.approx(high)
    assert metrics["redline_evals/pass_at_1"] == pytest.approx((0.3 + 0) / 2)
    assert metrics["redline_evals/pass_at_10"] == 1.0  # only a has 10 scored trials
