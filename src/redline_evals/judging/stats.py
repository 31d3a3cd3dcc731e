"""Per-sample statistics: turns, tool calls, tokens, time to the first replica."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from inspect_ai.event import ModelEvent, SampleLimitEvent
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool

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


NOT_RUN = {"parsing", "approval"}
"""Tool-call errors that mean the call never ran (unparseable arguments, unknown tool, refused)."""


def model_output_seen(events: Iterable[object]) -> bool:
    """Whether the evaluated model produced any output: a call that returned text or a tool
    call. A trial without one (every call failed, was cancelled or timed out) was never played."""
    for event in events:
        if isinstance(event, ModelEvent) and event.role is None and event.error is None:
            message = event.output.message if event.output.choices else None
            if message is not None and (message.text.strip() or message.tool_calls):
                return True
    return False


def ended_by(events: Iterable[object]) -> str | None:
    """The limit that ended the episode, e.g. `token limit (2000000)`; None if none did."""
    for event in events:
        if isinstance(event, SampleLimitEvent):
            limit = event.limit
            value = "" if limit is None else f" ({int(limit) if limit == int(limit) else limit})"
            return f"{event.type} limit{value}"
    return None


def tool_call_counts(messages: Sequence[ChatMessage]) -> tuple[int, int]:
    """(calls that ran, calls that could not run): a call ran if its result came back without
    a parsing or approval error; an assistant's call with no result at all did not run."""
    made = sum(len(m.tool_calls or []) for m in messages if isinstance(m, ChatMessageAssistant))
    ran = sum(
        1
        for m in messages
        if isinstance(m, ChatMessageTool) and (m.error is None or m.error.type not in NOT_RUN)
    )
    return ran, max(0, made - ran)


def sample_stats(
    messages: list[ChatMessage],
    events: Sequence[object],
    recorded_start: float | None,
    rounds: Sequence[ProbeRound],
) -> dict[str, Any]:
    """`steps`, `tool_calls` (executed), `tool_call_errors`, `tokens` and
    `seconds_to_first_replica`, and `limit` (the limit that ended the episode, if one did;
    see docs/scoring.md)."""
    turns = [m for m in messages if isinstance(m, ChatMessageAssistant)]
    tokens = 0
    for e in events:
        if isinstance(e, ModelEvent) and e.role is None and e.output.usage is not None:
            tokens += e.output.usage.total_tokens
    ran, failed = tool_call_counts(messages)
    start = episode_start(events, recorded_start)
    ready = replica_ready_times(rounds)
    return {
        "steps": len(turns),
        "tool_calls": ran,
        "tool_call_errors": failed,
        "tokens": tokens,
        "seconds_to_first_replica": (
            round(max(0.0, min(ready) - start), 1) if ready and start is not None else None
        ),
        "limit": ended_by(events),
    }
