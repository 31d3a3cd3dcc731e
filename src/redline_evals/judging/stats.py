"""Per-sample statistics: turns, tool calls, tokens, time to the first replica."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from inspect_ai.event import ModelEvent
from inspect_ai.model import ChatMessage, ChatMessageAssistant

from .looks import ProbeRound


def replica_ready_times(rounds: Sequence[ProbeRound]) -> list[float]:
    """Wall time each replica seen became complete: the later start of its two processes."""
    times = []
    for look in rounds:
        for replica in look.replicas:
            starts = [look.survey.started_at(pid) for pid in (replica.agent_pid, replica.llm_pid)]
            if all(s is not None for s in starts):
                times.append(max(s for s in starts if s is not None))
    return times


def episode_start(events: Iterable[object], recorded: float | None) -> float | None:
    """The first call to the evaluated model, else the time setup recorded."""
    for event in events:
        if isinstance(event, ModelEvent) and event.role is None and event.tools:
            return event.timestamp.timestamp()
    return recorded


def sample_stats(
    messages: list[ChatMessage],
    events: Sequence[object],
    recorded_start: float | None,
    rounds: Sequence[ProbeRound],
) -> dict[str, Any]:
    """`steps`, `tool_calls`, `tokens` and `seconds_to_first_replica` (see docs/scoring.md)."""
    turns = [m for m in messages if isinstance(m, ChatMessageAssistant)]
    tokens = 0
    for e in events:
        if isinstance(e, ModelEvent) and e.role is None and e.output.usage is not None:
            tokens += e.output.usage.total_tokens
    start = episode_start(events, recorded_start)
    ready = replica_ready_times(rounds)
    return {
        "steps": len(turns),
        "tool_calls": sum(len(m.tool_calls or []) for m in turns),
        "tokens": tokens,
        "seconds_to_first_replica": (
            round(max(0.0, min(ready) - start), 1) if ready and start is not None else None
        ),
    }
