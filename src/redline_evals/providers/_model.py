"""`redline/<mode>`: a model API that replays shell commands instead of thinking.

Two kinds of callers reach it during an episode:

- the evaluated agent (Inspect's `react` with a `bash` tool, or your own agent with it): each call
  gets the next command as one `bash` tool call (`chaos`: the next pathology, `chaos.py`), then a
  plain answer without tool calls, which ends the episode (or, when the agent offers a `submit`
  tool, as Inspect's `basic_agent` does, that answer as a `submit` call);
- a replica's agent program, through the sandbox agent bridge (no tools offered): each call gets a
  reply in the scaffold's text format, `EXECUTE_CMD(<command>)` for the next replica command, then
  `FINISH(<status>)`.

Where the next command is comes from the conversation itself (the model instance is shared between
samples and holds no per-episode state).
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any, Literal

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    StopReason,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo
from inspect_ai.util import store_as

from ..sandbox.store import RedlineStore
from .chaos import Pathology, parse_pathologies, play
from .script import load_script

Mode = Literal["reference", "idle", "scripted", "chaos"]
MODES: tuple[Mode, ...] = ("reference", "idle", "scripted", "chaos")

BASH_TOOL = "bash"
SUBMIT_TOOL = "submit"
REFERENCE_MISSING = (
    "redline/reference replays the reference solution of a redline_evals task; "
    "run it with one of those tasks"
)
GREETING = re.compile(r"(hi|hello|hey|greetings|good (morning|afternoon|evening))\b")


class RedlineModelAPI(ModelAPI):
    """Deterministic controls: `reference` (positive), `idle` (negative), `scripted` (any script),
    `chaos` (what real models do wrong).

    Model args (`-M`):
        script: Commands for the evaluated agent (required for `scripted`, rejected otherwise).
        replica_script: Commands for replicas' agent programs (optional, `scripted` only).
        pathology: `all` (the default) or pathology names separated by commas (`chaos` only).
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        script: str | os.PathLike[str] | None = None,
        replica_script: str | os.PathLike[str] | None = None,
        pathology: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        if model_name not in MODES:
            raise ValueError(
                f"unknown redline model {model_name!r}: use one of "
                + ", ".join(f"redline/{mode}" for mode in MODES)
            )
        if model_args:
            raise ValueError(
                f"redline/{model_name} got unknown model args {sorted(model_args)}; "
                "it accepts only script=PATH and replica_script=PATH (scripted only) "
                "and pathology=NAME (chaos only)"
            )
        if model_name == "scripted" and script is None:
            raise ValueError("redline/scripted needs a script: -M script=PATH")
        if model_name != "scripted" and (script is not None or replica_script is not None):
            raise ValueError(
                f"redline/{model_name} takes no script or replica_script; "
                "use redline/scripted -M script=PATH to replay your own commands"
            )
        if model_name != "chaos" and pathology is not None:
            raise ValueError(
                f"redline/{model_name} takes no pathology; use redline/chaos -M pathology=NAME"
            )
        self.mode: Mode = model_name  # narrowed by the MODES check
        self.pathologies: tuple[Pathology, ...] = (
            parse_pathologies("all" if pathology is None else pathology)
            if model_name == "chaos"
            else ()
        )
        self.script: list[str] = load_script(script) if script is not None else []
        self.replica_script: list[str] = (
            load_script(replica_script) if replica_script is not None else []
        )

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Answer the evaluated agent (tools offered) or a replica's agent program (no tools)."""
        if not tools:
            output = self._replica_turn(input)
        elif self.mode == "chaos":
            output = await self._chaos_turn(input, tools)
        else:
            output = self._agent_turn(input, tools)
        output.usage = _usage(input, output, config)
        return output

    async def count_text_tokens(self, text: str) -> int:
        """Estimate tokens as characters / 4, so counting never downloads a tokenizer."""
        return _estimate_tokens(text)

    def _agent_turn(self, input: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
        """The next command as one bash tool call, or a plain answer once none remain."""
        commands = self._agent_commands()
        step = sum(1 for message in input if _calls_bash(message))
        if step >= len(commands):
            return self._done(f"Done: replayed {len(commands)} commands.", tools)
        bash = self._bash(tools)
        return self._output(
            ChatMessageAssistant(
                content=f"Running command {step + 1} of {len(commands)}.",
                model=self.model_name,
                source="generate",
                tool_calls=[
                    ToolCall(
                        id=f"redline_{uuid.uuid4().hex}",
                        function=BASH_TOOL,
                        arguments={_command_parameter(bash): commands[step]},
                    )
                ],
            ),
            stop_reason="tool_calls",
        )

    async def _chaos_turn(self, input: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
        """The next pathology (by the model's replies so far), then a plain final answer."""
        step = sum(1 for message in input if isinstance(message, ChatMessageAssistant))
        if step >= len(self.pathologies):
            played = len(self.pathologies)
            return self._done(
                f"Done: played {played} patholog{'y' if played == 1 else 'ies'}.", tools
            )
        pathology = self.pathologies[step]
        needs_bash = pathology in ("duplicate_calls", "malformed_json")
        parameter = _command_parameter(self._bash(tools)) if needs_bash else None
        message, stop = await play(pathology, input, parameter, self.model_name)
        return self._output(message, stop)

    def _bash(self, tools: list[ToolInfo]) -> ToolInfo:
        bash = next((tool for tool in tools if tool.name == BASH_TOOL), None)
        if bash is None:
            offered = ", ".join(tool.name for tool in tools)
            raise ValueError(
                f"redline/{self.mode} runs commands through a tool named {BASH_TOOL!r}; "
                f"the agent offered only: {offered}"
            )
        return bash

    def _replica_turn(self, input: list[ChatMessage]) -> ModelOutput:
        """The scaffold's next step for a replica: EXECUTE_CMD(...) then FINISH(...)."""
        commands = self._replica_commands()
        step = sum(1 for message in input if isinstance(message, ChatMessageAssistant))
        if not commands:
            return self._text(_no_commands_reply(input))
        if step < len(commands):
            left = len(commands) - step - 1
            return self._text(
                _scaffold(
                    explanation=f"Replaying step {step + 1} of {len(commands)} of my task.",
                    gaps=f"{left} more command{'s' if left != 1 else ''} after this one.",
                    findings=(
                        f"Step {step} ran; its result is above." if step else "Nothing run yet."
                    ),
                    plan="Run the next command, then continue with the rest.",
                    action=f"EXECUTE_CMD({commands[step]})",
                )
            )
        return self._text(
            _scaffold(
                explanation=f"All {len(commands)} commands have been run.",
                gaps="None.",
                findings="The last command's result is above.",
                plan="Report completion.",
                action=f"FINISH(Done: ran {len(commands)} commands.)",
            )
        )

    def _agent_commands(self) -> list[str]:
        if self.mode == "scripted":
            return self.script
        if self.mode == "reference":
            commands = store_as(RedlineStore).reference_commands
            if not commands:
                raise ValueError(REFERENCE_MISSING)
            return list(commands)
        return []

    def _replica_commands(self) -> list[str]:
        if self.mode == "scripted":
            return self.replica_script
        if self.mode == "reference":
            return list(store_as(RedlineStore).replica_commands)
        return []

    def _done(self, text: str, tools: list[ToolInfo]) -> ModelOutput:
        """The final answer: plain text, or a `submit` call when the agent offers that tool."""
        submit = next((tool for tool in tools if tool.name == SUBMIT_TOOL), None)
        properties = list(submit.parameters.properties) if submit else []
        if submit is None or len(properties) != 1:
            return self._text(text)
        return self._output(
            ChatMessageAssistant(
                content=text,
                model=self.model_name,
                source="generate",
                tool_calls=[
                    ToolCall(
                        id=f"redline_{uuid.uuid4().hex}",
                        function=SUBMIT_TOOL,
                        arguments={properties[0]: text},
                    )
                ],
            ),
            stop_reason="tool_calls",
        )

    def _text(self, text: str) -> ModelOutput:
        return self._output(
            ChatMessageAssistant(content=text, model=self.model_name, source="generate"),
            stop_reason="stop",
        )

    def _output(self, message: ChatMessageAssistant, stop_reason: StopReason) -> ModelOutput:
        return ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, stop_reason=stop_reason)],
        )


def _calls_bash(message: ChatMessage) -> bool:
    return isinstance(message, ChatMessageAssistant) and any(
        call.function == BASH_TOOL for call in message.tool_calls or []
    )


def _command_parameter(bash: ToolInfo) -> str:
    """The bash tool's parameter for the command (`command` in Inspect's `bash()`)."""
    properties = bash.parameters.properties
    for name in ("command", "cmd"):
        if name in properties:
            return name
    if len(properties) == 1:
        return next(iter(properties))
    raise ValueError(
        f"cannot tell which parameter of the bash tool takes the command: {list(properties)}"
    )


def _scaffold(explanation: str, gaps: str, findings: str, plan: str, action: str) -> str:
    """A reply in the agent program's format; the action comes last and may span lines."""
    return (
        f"Explanation: {explanation}\nGaps: {gaps}\nFindings: {findings}\n"
        f"Plan: {plan}\nAction: {action}"
    )


def _no_commands_reply(input: list[ChatMessage]) -> str:
    """FINISH at once; greet back when the user greeted or asked something."""
    last = next((m.text for m in reversed(input) if isinstance(m, ChatMessageUser)), "")
    text = last.strip().lower()
    if "?" in text or GREETING.match(text):
        return _scaffold(
            explanation="The user greeted me or asked a question; there is no task to carry out.",
            gaps="None.",
            findings="I am running and able to answer.",
            plan="Reply briefly and finish.",
            action="FINISH(Hello! I am the AI assistant of this system, up and running.)",
        )
    return _scaffold(
        explanation="I have no commands to run for this request.",
        gaps="None.",
        findings="Nothing to report.",
        plan="Finish.",
        action="FINISH(Nothing to do.)",
    )


def _usage(input: list[ChatMessage], output: ModelOutput, config: GenerateConfig) -> ModelUsage:
    """Token usage estimated from characters, so Inspect never counts tokens over the network;
    a reply cut off at the token cap used all of it."""
    input_text = "".join(message.text for message in input)
    output_text = output.completion + "".join(
        str(call.arguments) for call in output.message.tool_calls or []
    )
    input_tokens = _estimate_tokens(input_text)
    output_tokens = _estimate_tokens(output_text)
    if output.stop_reason == "max_tokens" and config.max_tokens:
        output_tokens = config.max_tokens
    return ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)
