"""The decision after each turn of the built-in agent: a reply cut off at the token cap goes on
with a nudge, a final answer ends the episode, and a scenario's deadline ends it either way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from inspect_ai.agent import AgentState
from inspect_ai.model import ChatMessageAssistant, ModelOutput, StopReason
from inspect_ai.tool import ToolCall
from inspect_ai.util import store_as

from redline_evals.harness.episode import CUT_OFF_NUDGE, TurnHook, after_turn, default_hook
from redline_evals.harness.shutdown import ShutdownHook, ShutdownPlan
from redline_evals.sandbox.store import RedlineStore


def _state(stop: StopReason, calls: bool = False) -> AgentState:
    message = ChatMessageAssistant(
        content="Let me first look at",
        tool_calls=[ToolCall(id="c", function="bash", arguments={"command": "ls"})]
        if calls
        else None,
    )
    state = AgentState(messages=[message])
    state.output = ModelOutput.from_message(message, stop_reason=stop)
    return state


def _decide(hook: TurnHook, state: AgentState, number: int = 1) -> bool | str:
    return asyncio.run(after_turn(hook, state, number, 1.0))


@pytest.fixture
def redline_store() -> Iterator[RedlineStore]:
    """The store outside a sample is one shared default: leave it as found."""
    data = store_as(RedlineStore)
    yield data
    data.deadline = None
    data.events = []


def test_default_hook() -> None:
    assert _decide(default_hook, _state("tool_calls", calls=True)) is True
    assert _decide(default_hook, _state("stop")) is False  # the final answer
    assert _decide(default_hook, _state("max_tokens")) == CUT_OFF_NUDGE
    assert _decide(default_hook, _state("model_length")) == CUT_OFF_NUDGE


def test_a_cut_off_reply_neither_brings_the_deadline_nor_outlives_it(
    redline_store: RedlineStore,
) -> None:
    plan = ShutdownPlan(
        signal=False, signal_after_turns=1, signal_after_seconds=300,
        kill_after_turns=2, kill_after_seconds=600,
    )  # fmt: skip
    hook = ShutdownHook(plan)
    # turn 1 was cut off: the agent is not done, so no early deadline; it is told to go on
    assert _decide(hook, _state("max_tokens"), 1) == CUT_OFF_NUDGE
    assert redline_store.deadline is None
    # turn 2 is the deadline: the episode ends even though the reply was cut off
    assert _decide(hook, _state("max_tokens"), 2) is False
    assert redline_store.deadline == "turn 2, 1 s into the episode"
