"""Read Inspect logs of redline-evals into tidy trial records; say why any log is left out.

One trial is one sample and epoch of a log. Logs are read with Inspect's log API
(`list_eval_logs`, `read_eval_log`), never parsed by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import unquote, urlparse

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log
from inspect_ai.model import ChatMessageAssistant
from inspect_ai.scorer import Score

from .. import families as families_module
from ..family import family_class
from ..judging.metrics import SUCCESS_KEY
from ..spec import families, load_spec

REGISTRY_PREFIX = "redline_evals/"

DEFAULT_SUCCESS: dict[str, str] = {family: load_spec(family).success for family in families()}
"""Each family's primary 0/1 key (its spec's `success`), for logs whose scores do not name it in
`metadata["success"]` (written before the scorers recorded it)."""

LOG_SUFFIXES = (".eval", ".json")
SKIPPED_SAMPLE_FIELDS = {"events", "store", "attachments"}
NO_REDLINE_SCORE = "no redline-evals score"


@dataclass(frozen=True)
class Trial:
    """One sample and epoch of a redline-evals log."""

    log: str
    """The log file."""
    run: str
    """The run it belongs to (Inspect's eval id)."""
    family: str
    """Task family, e.g. `shutdown_avoidance`."""
    task: str
    """Task variant: the family and its non-default task args, e.g. `... trigger=notice`."""
    version: int | str
    """The task's version (`eval.task_version`): trials of different versions are never pooled."""
    model: str
    """The model and its model args (paths shortened to the file's stem)."""
    sample: str
    epoch: int
    success_key: str
    value: Mapping[str, float] | None
    """The score's numbers; None when the trial is unscored."""
    unscored_reason: str | None = None
    rate_keys: tuple[str, ...] = ()
    """Keys of `value` that are 0/1 rates (success, milestones, `refused`, and every key
    the scorer gives a Wilson interval), in the scorer's order."""
    milestones: tuple[str, ...] = ()
    behaviours: frozenset[str] = frozenset()
    steps: int | None = None
    tokens: int | None = None
    seconds_to_first_replica: float | None = None
    limit: str | None = None
    """The limit that ended the trial (`token`, `time`, `message`, ...), if one did."""

    @property
    def scored(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Skipped:
    """A log left out of the report, and why."""

    path: str
    reason: str


@dataclass
class LogSet:
    """What a set of paths yielded: trials, the logs they came from, and what was left out."""

    trials: list[Trial] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class LogRejected(Exception):
    """A log that cannot be used: unreadable, not a redline-evals log, or empty."""


def find_log_files(paths: Iterable[str | Path]) -> tuple[list[str], list[Skipped]]:
    """Log files under `paths` (files as given, directories recursively), in a stable order.

    Raises:
        FileNotFoundError: If a path does not exist.
    """
    found: list[str] = []
    skipped: list[Skipped] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            infos = list_eval_logs(str(path.resolve()), recursive=True, descending=False)
            if not infos:
                skipped.append(Skipped(str(path), "no Inspect logs (.eval/.json) in this folder"))
            found.extend(sorted(_local_path(info.name) for info in infos))
        elif path.is_file():
            if path.suffix in LOG_SUFFIXES:
                found.append(str(path.resolve()))
            else:
                skipped.append(Skipped(str(path), "not an Inspect log file (.eval or .json)"))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found)), skipped


def read_trials(paths: Iterable[str | Path]) -> LogSet:
    """Every trial of every usable log under `paths`, with a reason for each log left out.

    Raises:
        FileNotFoundError: If a path does not exist.
    """
    files, skipped = find_log_files(paths)
    result = LogSet(skipped=skipped)
    for file in files:
        try:
            trials, note = read_log(file)
        except LogRejected as rejected:
            result.skipped.append(Skipped(file, str(rejected)))
            continue
        result.trials.extend(trials)
        result.logs.append(file)
        if note:
            result.notes.append(f"{file}: {note}")
    return result


def read_log(path: str) -> tuple[list[Trial], str | None]:
    """The trials of one log, and a note when the log is partial.

    Raises:
        LogRejected: If the log is unreadable, not a redline-evals log, or has no sample.
    """
    try:
        header = read_eval_log(path, header_only=True)
    except Exception as error:
        raise LogRejected(f"unreadable ({type(error).__name__}: {_first_line(error)})") from None
    family = _family(header)
    if family is None:
        raise LogRejected(f"not a redline-evals log (task {header.eval.task!r})")
    if header.status != "success" and not header.eval.dataset.sample_ids:
        raise LogRejected(f"run {_status(header)} before any sample ran{_error(header)}")
    try:
        log = read_eval_log(path, exclude_fields=SKIPPED_SAMPLE_FIELDS)
    except Exception as error:
        raise LogRejected(f"unreadable ({type(error).__name__}: {_first_line(error)})") from None
    if not log.samples:
        raise LogRejected(f"run {_status(log)} with no completed sample{_error(log)}")
    trials = [_trial(path, log, family, sample) for sample in log.samples]
    if all(t.value is None and t.unscored_reason == NO_REDLINE_SCORE for t in trials):
        raise LogRejected("no redline-evals score in its samples")
    note = None
    if log.status != "success":
        note = f"partial run (status {log.status}): {len(trials)} sample(s) used{_error(log)}"
    return trials, note


def _trial(path: str, log: EvalLog, family: str, sample: EvalSample) -> Trial:
    unscored = Trial(
        log=path,
        run=log.eval.eval_id or log.eval.run_id,
        family=family,
        task=task_label(family, log.eval.task_args),
        version=log.eval.task_version,
        model=model_label(log.eval.model, log.eval.model_args),
        sample=str(sample.id),
        epoch=sample.epoch,
        success_key=DEFAULT_SUCCESS[family],
        value=None,
        unscored_reason=NO_REDLINE_SCORE,
        steps=_assistant_turns(sample),
        tokens=_tokens(sample, log.eval.model),
        limit=sample.limit.type if sample.limit is not None else None,
    )
    if sample.error is not None:
        reason = f"sample error: {_first_line(sample.error.message)}"
        return replace(unscored, unscored_reason=reason)
    found = _redline_score(sample.scores or {}, unscored.success_key)
    if found is None:
        return unscored
    name, score = found
    meta: dict[str, Any] = score.metadata or {}
    # statistics are flat score-metadata fields (0.1 logs nest them under "stats")
    stats: dict[str, Any] = meta["stats"] if isinstance(meta.get("stats"), dict) else meta
    trial = replace(
        unscored,
        success_key=str(meta.get("success") or unscored.success_key),
        steps=_int(stats.get("steps"), unscored.steps),
        tokens=_int(stats.get("tokens"), unscored.tokens),
    )
    if not isinstance(score.value, dict):
        reason = score.reason or meta.get("reason") or score.explanation or "unscored"
        return replace(trial, unscored_reason=_first_line(reason))
    value = {key: float(v) for key, v in score.value.items() if _number(v)}
    if value.get(trial.success_key, 0.0) not in (0.0, 1.0):
        reason = f"success key {trial.success_key!r} is {value[trial.success_key]!r}, not 0 or 1"
        return replace(trial, unscored_reason=reason)
    milestones = tuple(str(m) for m in meta.get("milestones") or () if str(m) in value)
    declared = _declared_rates(log, name) | {trial.success_key, "refused", *milestones}
    seconds = stats.get("seconds_to_first_replica")
    return replace(
        trial,
        value=value,
        unscored_reason=None,
        rate_keys=tuple(key for key in value if key in declared),
        milestones=milestones,
        behaviours=_behaviours(meta.get("behaviours")),
        seconds_to_first_replica=float(seconds) if _number(seconds) else None,
    )


def task_label(family: str, task_args: Mapping[str, Any]) -> str:
    """The family and the task args that differ from the task's defaults (`-T` order)."""
    defaults = task_defaults(family)
    changed = [
        f"{name}={value}"
        for name, value in task_args.items()
        if value is not None and (name not in defaults or value != defaults[name])
    ]
    return " ".join([family, *changed])


@cache
def task_defaults(family: str) -> dict[str, Any]:
    """The task args of a family's `@task` left unset: its parameters' defaults (limits from
    its spec)."""
    families_module.load()
    defaults: dict[str, Any] = family_class(family).from_values({}).params.model_dump()
    return defaults


def model_label(model: str, model_args: Mapping[str, Any]) -> str:
    """The model and its args; a file path (e.g. `script=...`) is shortened to the file's stem."""
    args = [f"{name}={_short(value)}" for name, value in sorted(model_args.items())]
    return " ".join([model, *args])


def _short(value: Any) -> str:
    text = str(value)
    if isinstance(value, str | Path) and "://" not in text and ("/" in text or "\\" in text):
        return Path(text).stem
    return text


def _family(header: EvalLog) -> str | None:
    """The task family of a log: from the task's metadata (kept when a task is renamed, as
    `redline-evals validity` does), else from its registry name or name."""
    for name in (
        (header.eval.metadata or {}).get("family"),
        header.eval.task_registry_name,
        header.eval.task,
    ):
        if not isinstance(name, str):
            continue
        if name and name.removeprefix(REGISTRY_PREFIX) in DEFAULT_SUCCESS:
            return name.removeprefix(REGISTRY_PREFIX)
    return None


def _redline_score(scores: Mapping[str, Score], success: str) -> tuple[str, Score] | None:
    """The score a redline-evals scorer gave: it names its success key, or has the family's."""
    for name, score in scores.items():
        if SUCCESS_KEY in (score.metadata or {}):
            return name, score
    for name, score in scores.items():
        if isinstance(score.value, dict) and success in score.value:
            return name, score
    for name, score in scores.items():
        if _unscored(score):
            return name, score
    return None


def _declared_rates(log: EvalLog, scorer: str) -> set[str]:
    """The 0/1 keys the task declares (`rates` in its metadata; `success`, the success key's
    second name, left out), or for 0.1 logs the keys given a Wilson interval metric."""
    rates = (log.eval.metadata or {}).get("rates")
    if isinstance(rates, list):
        return {str(key) for key in rates} - {SUCCESS_KEY}
    for declared in log.eval.scorers or []:
        if declared.name == scorer and isinstance(declared.metrics, dict):
            return {
                key
                for key, metrics in declared.metrics.items()
                if any("wilson" in metric.name for metric in metrics)
            }
    return set()


def _behaviours(raw: Any) -> frozenset[str]:
    """Tags that fired: `{tag: [evidence, ...]}` (the contract) or a list of tags (older logs)."""
    if isinstance(raw, dict):
        return frozenset(str(tag) for tag, evidence in raw.items() if evidence)
    if isinstance(raw, list | tuple):
        return frozenset(str(tag) for tag in raw)
    return frozenset()


def _assistant_turns(sample: EvalSample) -> int | None:
    if not sample.messages:
        return None
    return sum(1 for message in sample.messages if isinstance(message, ChatMessageAssistant))


def _tokens(sample: EvalSample, model: str) -> int | None:
    usage = (sample.model_usage or {}).get(model)
    return usage.total_tokens if usage is not None else None


def _unscored(score: Score) -> bool:
    return isinstance(score.value, float) and math.isnan(score.value)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and math.isfinite(value)


def _int(value: Any, fallback: int | None) -> int | None:
    return int(value) if _number(value) else fallback


def _status(log: EvalLog) -> str:
    if log.status == "started":
        return "still running or interrupted (status started)"
    return str(log.status)


def _error(log: EvalLog) -> str:
    return f": {_first_line(log.error.message)}" if log.error else ""


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__


def _local_path(name: str) -> str:
    parsed = urlparse(name)
    return unquote(parsed.path) if parsed.scheme == "file" else name
