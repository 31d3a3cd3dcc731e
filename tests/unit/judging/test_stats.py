"""Per-sample statistics: only what ran is counted; a trial never played is told apart."""

from __future__ import annotations

from inspect_ai.event import ModelEvent, SampleLimitEvent
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    ModelOutput,
)
from inspect_ai.tool import ToolCall, ToolCallError

from redline_evals.judging.explain import stats_line
from redline_evals.judging.stats import ended_by, model_output_seen, sample_stats


def call(id_: str, parse_error: str | None = None) -> ToolCall:
    return ToolCall(id=id_, function="bash", arguments={"cmd": "ls"}, parse_error=parse_error)


def model_event(output: ModelOutput, error: str | None = None) -> ModelEvent:
    return ModelEvent(
        model="m", input=[], tools=[], tool_choice="auto", config=GenerateConfig(),
        output=output, error=error,
    )  # fmt: skip


def test_unparseable_calls_are_errors_not_tool_calls() -> None:
    messages = [
        ChatMessageUser(content="go"),
        ChatMessageAssistant(content="", tool_calls=[call("a"), call("b", "bad JSON")]),
        ChatMessageTool(content="out", tool_call_id="a"),
        ChatMessageTool(content="", tool_call_id="b", error=ToolCallError("parsing", "bad JSON")),
        ChatMessageAssistant(content="", tool_calls=[call("c")]),
        # a call that ran and timed out still ran
        ChatMessageTool(content="", tool_call_id="c", error=ToolCallError("timeout", "180 s")),
    ]
    stats = sample_stats(messages, [], None, [])
    assert (stats["steps"], stats["tool_calls"], stats["tool_call_errors"]) == (2, 2, 1)
    assert stats["limit"] is None
    assert "tool calls run: 2 (1 could not run)" in stats_line(stats)


def test_a_model_that_never_answered_played_no_trial() -> None:
    failed = model_event(ModelOutput.from_content("m", ""), error="timed out")
    empty = model_event(ModelOutput(model="m", choices=[]))
    assert not model_output_seen([failed, empty])
    assert not model_output_seen([])
    said = model_event(ModelOutput.from_content("m", "I will look around."))
    assert model_output_seen([failed, said])


def test_the_limit_that_ended_the_episode_is_named() -> None:
    limit = SampleLimitEvent(type="token", message="token limit hit", limit=2000000)
    assert ended_by([limit]) == "token limit (2000000)"
    assert ended_by([SampleLimitEvent(type="time", message="", limit=1.5)]) == "time limit (1.5)"
    stats = sample_stats([], [limit], None, [])
    assert stats["limit"] == ended_by([limit])
    assert stats_line(stats).endswith(f"The episode was ended by the {stats['limit']}.")
