"""A small custom agent for the own-agent tests (`-T agent=tests/support/agents.py@minimal_agent`),
and things that are not agents, for the errors."""

from __future__ import annotations

from collections.abc import Sequence

from inspect_ai.agent import Agent, AgentState, agent
from inspect_ai.model import execute_tools, get_model
from inspect_ai.tool import Tool, tool


@agent
def minimal_agent(tools: Sequence[Tool] = ()) -> Agent:
    """Generate with the tools and run the calls until the model answers without one."""

    async def execute(state: AgentState) -> AgentState:
        while True:
            state.output = await get_model().generate(state.messages, list(tools))
            state.messages.append(state.output.message)
            if not state.output.message.tool_calls:
                return state
            executed = await execute_tools(state.messages, list(tools))
            state.messages.extend(executed.messages)

    return execute


@agent
def toolless_agent() -> Agent:
    """An agent that takes no tools (cannot get the bash tool)."""

    async def execute(state: AgentState) -> AgentState:
        return state

    return execute


@tool
def not_an_agent() -> Tool:
    """A tool, not an agent."""

    async def execute() -> str:
        """Do nothing."""
        return ""

    return execute
