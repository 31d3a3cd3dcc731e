"""Your own agent (`-T agent=...`): an Inspect `@agent` or `@solver` run in place of the built-in
`react` agent, found by registry name (`inspect_ai/basic_agent`, `my_package/my_agent`) or in a
file (`path/to/agents.py@my_agent`), and made with `tools=[...]` (the episode's bash tool)."""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from inspect_ai._util.module import load_module
from inspect_ai._util.registry import (
    is_registry_object,
    registry_info,
    registry_lookup,
)
from inspect_ai.agent import Agent
from inspect_ai.solver import Solver
from inspect_ai.tool import Tool

from ..params import TaskParameterError

Kind = Literal["agent", "solver"]
BUILT_IN = "react"
"""What the store records as the agent when the built-in one runs."""


def create_agent(spec: str, tools: list[Tool]) -> tuple[Kind, Agent | Solver]:
    """Make the agent or solver `spec` names, giving it `tools`.

    Args:
        spec: A registry name (`inspect_ai/basic_agent`, `react`) or `file.py@name`.
        tools: The tools it gets (passed as `tools=`).

    Raises:
        TaskParameterError: One line naming the problem.
    """
    kind, factory = find_agent(spec)
    if not takes_tools(factory):
        raise TaskParameterError(
            f"-T agent={spec}: the {kind} takes no `tools` argument, so it cannot get the "
            "episode's bash tool (give its factory a `tools` parameter)"
        )
    try:
        made = factory(tools=tools)
    except Exception as ex:
        raise TaskParameterError(f"-T agent={spec}: making the {kind} failed: {ex}") from None
    if not callable(made):
        raise TaskParameterError(
            f"-T agent={spec}: its factory returned {type(made).__name__}, not an {kind}"
        )
    return kind, made


def find_agent(spec: str) -> tuple[Kind, Any]:
    """The factory of the agent or solver `spec` names (see `create_agent`)."""
    file, _, name = spec.rpartition("@") if "@" in spec else ("", "", spec)
    if not name:
        raise TaskParameterError(f"-T agent={spec}: name the agent after the @ (file.py@name)")
    if not file:
        for kind in ("agent", "solver"):
            found = registry_lookup(kind, name)
            if found is not None:
                return kind, found
        if name.endswith(".py"):
            raise TaskParameterError(
                f"-T agent={spec}: name the agent in the file as {name}@<name>"
            )
        raise TaskParameterError(
            f"-T agent={spec}: no @agent or @solver named {name!r} is registered "
            "(use a registry name such as inspect_ai/basic_agent, or file.py@name)"
        )
    path = Path(file)
    if path.suffix != ".py":
        raise TaskParameterError(f"-T agent={spec}: {file} is not a Python file (file.py@name)")
    if not path.is_file():
        raise TaskParameterError(f"-T agent={spec}: {file} does not exist")
    try:
        module = _load(path.resolve())
    except Exception as ex:
        raise TaskParameterError(
            f"-T agent={spec}: importing {file} failed: {type(ex).__name__}: {ex}"
        ) from None
    found = getattr(module, name, None)
    if found is None:
        raise TaskParameterError(f"-T agent={spec}: {file} defines no {name!r}")
    kinds: tuple[Kind, ...] = ("agent", "solver")
    for kind in kinds:
        if is_registry_object(found, kind):
            return kind, found
    what = registry_info(found).type if is_registry_object(found) else type(found).__name__
    raise TaskParameterError(
        f"-T agent={spec}: {name} in {file} is a {what}, not an @agent or @solver"
    )


def takes_tools(factory: Any) -> bool:
    """Whether the factory accepts `tools=` (a named parameter or `**kwargs`)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True  # cannot tell: let the call decide
    return any(
        p.name == "tools"
        and p.kind is not inspect.Parameter.POSITIONAL_ONLY
        or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in params
    )


@cache
def _load(path: Path) -> ModuleType:
    """Import an agent file once (each sample makes its agent anew from the same module)."""
    return load_module(path)
