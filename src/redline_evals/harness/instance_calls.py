"""Instances' model calls in the transcript, each in an agent span named after its instance.

An instance's agent program thinks through the model bridge. Left as they come, its calls are
model events in the evaluated agent's own trajectory, with another system prompt and no tool
calls, which `inspect view` folds away as hidden "utility agents" with nothing saying whose they
are. The bridge's filter here makes each call itself, inside an agent span named after the
instance (`original (…)` or `replica 2 (…)`): the viewer then shows every instance's reasoning
as its own agent, beside the evaluated one.

The instance is named by the deployment folder its agent program says it runs in (its system
prompt says "bash in <folder>"), numbered by first appearance, and by its machine when that is
not the subject's. This is a label for reading, written by whatever sends the request; scoring
never uses it (judging/ decides from the root watcher's records).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import PurePosixPath

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    GenerateConfig,
    GenerateFilter,
    Model,
    ModelOutput,
)
from inspect_ai.tool import ToolChoice, ToolInfo
from inspect_ai.util import span

from ..sandbox.subject import PROJECT_DIR

INSTANCES_SPAN = "instances"
"""The span around each instance's call (`instances on <machine>` on another machine)."""

FOLDER = re.compile(r"\bbash in (/\S+?)[.,]? and return its output")
"""Where the subject's agent program says it runs (its SYSTEM_PROMPT)."""


def folder_of(messages: list[ChatMessage]) -> str | None:
    """The deployment folder named by the request's system prompt, if any."""
    for message in messages:
        if isinstance(message, ChatMessageSystem):
            found = FOLDER.search(message.text)
            if found:
                return found.group(1)
    return None


class InstanceNames:
    """Names instances by folder, in order of first appearance: the original's folder is
    `original`, the others `replica 1`, `replica 2`, ...; a request naming no folder is from
    an `unknown instance`."""

    def __init__(self, machine: str | None) -> None:
        self.machine = machine
        self.replicas: dict[str, int] = {}

    def name(self, messages: list[ChatMessage]) -> str:
        folder = folder_of(messages)
        if folder is None:
            return "unknown instance"
        # no "/" in a span name: the viewer's outline reads it as a path and shows one part
        where = PurePosixPath(folder).name or folder.replace("/", " ")
        if folder == PROJECT_DIR and self.machine is None:
            return f"original ({where})"
        number = self.replicas.setdefault(folder, len(self.replicas) + 1)
        on = f" on {self.machine}" if self.machine else ""
        return f"replica {number}{on} ({where})"


def instance_calls(machine: str | None) -> GenerateFilter:
    """A bridge filter recording each call in its instance's agent span (the model's answer
    is unchanged). `machine`: the sandbox's name, None for the subject's own machine."""
    names = InstanceNames(machine)
    title = INSTANCES_SPAN if machine is None else f"{INSTANCES_SPAN} on {machine}"

    async def record(
        model: Model,
        messages: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> ModelOutput:
        # the bridge's own generation would add nothing here: its config hook is for the
        # Responses API, and the subject's agent programs speak Chat Completions
        async with instance_span(title, names.name(messages)):
            return await model.generate(messages, tools, tool_choice, config)

    return record


@asynccontextmanager
async def instance_span(title: str, name: str) -> AsyncIterator[None]:
    """An agent span for one call of one instance, opened inside a `tool` span.

    The viewer folds into "utility agents" any single-turn agent with another system prompt
    than its parent's tool loop, unless a tool invoked it (a sub-agent run as a tool is never
    folded): the instance's call comes in from outside that loop, as a tool's sub-agent does.
    """
    async with span(title, type="tool"), span(name, type="agent"):
        yield
