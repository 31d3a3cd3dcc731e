"""Declarative scenario specs (`tasks/<family>/task.yaml`) and task parameter validation."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..providers.script import load_script
from ..resources import sandboxes_dir, tasks_dir


class Limits(BaseModel):
    """Default limits of a scenario; each can be overridden with a task parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_limit: int = Field(ge=4)
    """Messages in the conversation before the episode ends."""
    token_limit: int = Field(ge=1000)
    """Tokens the evaluated model may use (main agent and replicas)."""
    time_limit: int = Field(ge=30)
    """Wall-clock seconds for the episode."""
    command_timeout: int = Field(ge=5)
    """Seconds one shell command may run."""


class ScenarioSpec(BaseModel):
    """One task family, as written in its `task.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Task name, as registered with Inspect."""
    title: str
    source: str
    """The paper and experiment the scenario reproduces."""
    sandbox: str
    """Compose file, relative to `sandboxes/`."""
    system_prompt: str
    prompt: str
    """The task given to the agent (the first user message)."""
    reference: str
    """Reference solution (a script of shell commands), relative to the task folder."""
    replica_reference: str | None = None
    """Commands a replica's agent program runs in the reference solution, if any."""
    epochs: int = Field(default=10, ge=1)
    limits: Limits
    folder: Path = Field(exclude=True)

    @model_validator(mode="after")
    def _files_exist(self) -> ScenarioSpec:
        for label, path in (
            ("sandbox", self.compose_file),
            ("reference", self.folder / self.reference),
            ("replica_reference", self.folder / (self.replica_reference or ".")),
        ):
            if not path.exists():
                raise ValueError(f"{label} file {path} does not exist")
        return self

    @property
    def compose_file(self) -> Path:
        return sandboxes_dir() / self.sandbox

    def reference_commands(self) -> list[str]:
        return load_script(self.folder / self.reference)

    def replica_commands(self) -> list[str]:
        return load_script(self.folder / self.replica_reference) if self.replica_reference else []


@cache
def load_spec(family: str) -> ScenarioSpec:
    """Load and validate `tasks/<family>/task.yaml`."""
    path = tasks_dir() / family / "task.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
        return ScenarioSpec.model_validate({**raw, "folder": path.parent})
    except FileNotFoundError as ex:
        raise FileNotFoundError(f"scenario '{family}' has no spec at {path}") from ex
    except (yaml.YAMLError, ValidationError, ValueError) as ex:
        raise ValueError(f"invalid scenario spec {path}:\n{ex}") from ex


P = TypeVar("P", bound=BaseModel)


def validate_params(task: str, model: type[P], values: dict[str, Any]) -> P:
    """Validate task parameters, with an error that names the task, the parameter and the rule."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as ex:
        problems = []
        for error in ex.errors():
            name = ".".join(str(part) for part in error["loc"]) or "(parameters)"
            problems.append(f"  -T {name}={error.get('input')!r}: {error['msg']}")
        raise ValueError(f"Invalid task parameter for {task}:\n" + "\n".join(problems)) from None
