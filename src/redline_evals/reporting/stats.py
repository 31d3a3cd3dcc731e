"""Statistics of a group of trials: rates with Wilson intervals, unbiased pass@k, medians."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..judging.metrics import pass_at_k, wilson_interval
from .logs import Trial


@dataclass(frozen=True)
class Rate:
    """A proportion over trials with its 95% Wilson interval."""

    successes: int
    trials: int
    low: float
    high: float

    @property
    def mean(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @classmethod
    def of(cls, values: Iterable[float]) -> Rate:
        """The rate of 1s among 0/1 values."""
        values = list(values)
        bad = [v for v in values if v not in (0, 1)]
        if bad:
            raise ValueError(f"not a 0/1 value: {bad[0]!r}")
        successes = int(sum(values))
        low, high = wilson_interval(successes, len(values))
        return cls(successes, len(values), low, high)


def mean_pass_at_k(per_sample: Sequence[tuple[int, int]], k: int) -> float | None:
    """pass@k averaged over samples, each given as (trials, successes).

    None when there is no sample or any sample has fewer than `k` trials: the estimator is
    undefined for it, and leaving it out would bias the average.
    """
    if not per_sample or any(n < k for n, _ in per_sample):
        return None
    return statistics.fmean(pass_at_k(n, c, k) for n, c in per_sample)


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True)
class GroupSummary:
    """Everything the report says about one (task variant, model) group of trials."""

    family: str
    task: str
    """The task variant, and ` v<version>` after the family when the report holds logs of more
    than one version of that family (see `summarise`)."""
    version: int | str
    """The task version (`eval.task_version`) of every trial in the group."""
    model: str
    trials: int
    """All trials, scored or not."""
    unscored: dict[str, int]
    """Reason -> number of trials without a score (never counted as failures)."""
    limits: dict[str, int]
    """Limit (`token`, `time`, `message`, ...) -> number of trials it ended (they keep their
    score)."""
    runs: int
    """Distinct runs (evals) pooled in this group."""
    success_key: str
    success: Rate
    pass_at: dict[int, float | None]
    rates: dict[str, Rate]
    """Every 0/1 key, in the scorer's order."""
    means: dict[str, float]
    """Every other numeric key: its mean over scored trials."""
    milestones: tuple[str, ...]
    behaviours: dict[str, Rate]
    """Tag -> share of scored trials in which it fired."""
    median_steps: float | None
    median_tokens: float | None
    median_seconds_to_replica: float | None
    trials_with_replica_time: int
    versioned: bool = False
    """Whether `task` carries the version (the report holds several versions of the family)."""

    @property
    def scored(self) -> int:
        return self.trials - sum(self.unscored.values())


def summarise(trials: Sequence[Trial], ks: Sequence[int] = (1, 10)) -> list[GroupSummary]:
    """One summary per (task variant, task version, model), ordered by task, version, model.

    Trials of different task versions are never pooled: a family whose trials come from more
    than one version has the version in each of its groups' task label
    (`self_replication v2 trigger=...`), so every table and the plot keep them apart.
    """
    groups: dict[tuple[str, tuple[int, str], str], list[Trial]] = {}
    for trial in trials:
        groups.setdefault((trial.task, _version_order(trial.version), trial.model), []).append(
            trial
        )
    versions: dict[str, set[int | str]] = {}
    for trial in trials:
        versions.setdefault(trial.family, set()).add(trial.version)
    return [
        summarise_group(groups[key], ks, show_version=len(versions[groups[key][0].family]) > 1)
        for key in sorted(groups)
    ]


def version_label(task: str, family: str, version: int | str) -> str:
    """`self_replication v2 trigger=notice`: the version right after the family."""
    return f"{family} v{version}{task.removeprefix(family)}"


def _version_order(version: int | str) -> tuple[int, str]:
    """Numbers in numeric order, then text versions."""
    return (version, "") if isinstance(version, int) else (2**63, str(version))


def summarise_group(
    trials: Sequence[Trial], ks: Sequence[int] = (1, 10), show_version: bool = False
) -> GroupSummary:
    """The summary of trials that share a task variant, a task version and a model.

    Raises:
        ValueError: If the trials do not share them (pooling them would mix results).
    """
    kinds = {(t.task, t.version, t.model) for t in trials}
    if len(kinds) != 1:
        raise ValueError(f"trials of different task variants, versions or models: {kinds}")
    scored = [t for t in trials if t.value is not None]
    success_key = next((t.success_key for t in scored), trials[0].success_key)
    rate_keys = tuple(
        key
        for key in _ordered(key for t in scored for key in t.rate_keys)
        if all(t.value[key] in (0, 1) for t in scored if t.value is not None and key in t.value)
    )
    other_keys = _ordered(key for t in scored for key in t.value or {} if key not in rate_keys)
    per_sample: dict[str, tuple[int, int]] = {}
    for trial in scored:
        if trial.value is not None and success_key in trial.value:
            n, c = per_sample.get(trial.sample, (0, 0))
            per_sample[trial.sample] = (n + 1, c + int(trial.value[success_key]))
    unscored: dict[str, int] = {}
    limits: dict[str, int] = {}
    for trial in trials:
        if trial.value is None:
            reason = trial.unscored_reason or "unscored"
            unscored[reason] = unscored.get(reason, 0) + 1
        if trial.limit is not None:
            limits[trial.limit] = limits.get(trial.limit, 0) + 1
    tags = sorted({tag for t in scored for tag in t.behaviours})
    replica_times = [t.seconds_to_first_replica for t in scored]
    return GroupSummary(
        family=trials[0].family,
        task=version_label(trials[0].task, trials[0].family, trials[0].version)
        if show_version
        else trials[0].task,
        version=trials[0].version,
        model=trials[0].model,
        trials=len(trials),
        unscored=unscored,
        limits=limits,
        runs=len({t.run for t in trials}),
        success_key=success_key,
        success=_rate(scored, success_key),
        pass_at={k: mean_pass_at_k(list(per_sample.values()), k) for k in ks},
        rates={key: _rate(scored, key) for key in rate_keys},
        means={key: _mean(scored, key) for key in other_keys},
        milestones=_ordered(m for t in scored for m in t.milestones),
        behaviours={tag: Rate.of(float(tag in t.behaviours) for t in scored) for tag in tags},
        median_steps=median(t.steps for t in trials),
        median_tokens=median(t.tokens for t in trials),
        median_seconds_to_replica=median(replica_times),
        trials_with_replica_time=sum(1 for s in replica_times if s is not None),
        versioned=show_version,
    )


def _rate(scored: Sequence[Trial], key: str) -> Rate:
    return Rate.of(t.value[key] for t in scored if t.value is not None and key in t.value)


def _mean(scored: Sequence[Trial], key: str) -> float:
    return statistics.fmean(t.value[key] for t in scored if t.value is not None and key in t.value)


def _ordered(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))
