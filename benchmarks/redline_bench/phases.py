"""Where a sample's time goes, read from its events with Inspect's log API.

Every sample, ours or the floor's, is cut at the same event boundaries:

    compose up | setup | episode: bridge start, agent, bridge stop | scoring | compose down

- compose up: the `init` span, in which Inspect creates the sample's sandbox
  (`docker compose up`, sample files copied in, its first exec).
- setup: from the end of `init` to the begin of the episode: the task's setup solvers (ours:
  `setup_instance`, and e.g. `prepare_remote`).
- episode: the solver span named `.../episode` (for a task without one, the floor: the whole
  `solvers` span). With model calls it splits into bridge start (episode begin -> first
  `ModelEvent`: sandbox tools injected, bridge proxy started), agent (first
  `ModelEvent` -> the last one's completion: the agent's turns and commands) and bridge stop
  (-> episode end: the proxy is shut down).
- scoring: the `scorers` span (the probe's execs, the kill, the settle time, the score).
- compose down: end of the last span -> `EvalSample.completed_at`, which Inspect stamps after it
  has brought the sample's sandbox down.
- other: whatever the cuts above leave out (gaps between spans), so the parts add up to
  end-to-end = init begin -> `completed_at`. Inspect's own `total_time` starts after `init`.

harness = end-to-end - agent: everything but the agent's own turns and commands (for the floor,
everything but its `true`), i.e. what running a sample costs beyond the work being evaluated.
"""

from __future__ import annotations

from datetime import datetime

from inspect_ai.event import ModelEvent, SpanBeginEvent, SpanEndEvent
from inspect_ai.log import EvalSample

PARTS = (
    "compose up",
    "setup",
    "bridge start",
    "agent",
    "bridge stop",
    "scoring",
    "compose down",
    "other",
)
"""The parts of end-to-end, in order; they add up to it."""

SUMMARY = ("start-up", "episode", "harness", "end-to-end")
"""Sums of parts: start-up = compose up + setup (the sample is ready for the agent); harness =
every part but agent."""


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def phases(sample: EvalSample) -> dict[str, float]:
    """Seconds spent in each part of one sample (see the module docstring), plus SUMMARY.

    Raises:
        ValueError: The sample has no `init` span or no completion time (it did not run).
    """
    begins = [e for e in sample.events if isinstance(e, SpanBeginEvent)]
    ends = {e.id: e.timestamp for e in sample.events if isinstance(e, SpanEndEvent)}
    inits = [b for b in begins if b.type == "init" and b.id in ends]
    if not inits or sample.completed_at is None:
        raise ValueError(f"sample {sample.id} epoch {sample.epoch} has no init span or end")
    init = inits[-1]  # the last attempt's, if the sandbox was retried
    completed = datetime.fromisoformat(sample.completed_at)

    def span(type_: str, suffix: str = "") -> SpanBeginEvent | None:
        found = [b for b in begins if b.type == type_ and b.name.endswith(suffix) and b.id in ends]
        return found[-1] if found else None

    solvers = span("solvers")
    episode = span("solver", "/episode") or solvers
    scorers = span("scorers")
    if episode is None:  # nothing ran after init
        up = _seconds(init.timestamp, ends[init.id])
        return _finish({"compose up": up}, _seconds(init.timestamp, completed), up)

    calls = [e for e in sample.events if isinstance(e, ModelEvent)]
    episode_begin, episode_end = episode.timestamp, ends[episode.id]
    part = {
        "compose up": _seconds(init.timestamp, ends[init.id]),
        "setup": _seconds(ends[init.id], episode_begin),
    }
    if calls:
        last = max(e.completed or e.timestamp for e in calls)
        part["bridge start"] = _seconds(episode_begin, calls[0].timestamp)
        part["agent"] = _seconds(calls[0].timestamp, last)
        part["bridge stop"] = _seconds(last, episode_end)
    else:
        part["agent"] = _seconds(episode_begin, episode_end)
    last_end = episode_end
    if scorers is not None:
        part["scoring"] = _seconds(scorers.timestamp, ends[scorers.id])
        last_end = max(last_end, ends[scorers.id])
    part["compose down"] = _seconds(last_end, completed)
    return _finish(
        part, _seconds(init.timestamp, completed), _seconds(init.timestamp, episode_begin)
    )


def _finish(part: dict[str, float], total: float, start_up: float) -> dict[str, float]:
    measured = {name: part.get(name, 0.0) for name in PARTS if name != "other"}
    episode = measured["bridge start"] + measured["agent"] + measured["bridge stop"]
    return {
        **measured,
        "other": total - sum(measured.values()),
        "start-up": start_up,
        "episode": episode,
        "harness": total - measured["agent"],
        "end-to-end": total,
    }
