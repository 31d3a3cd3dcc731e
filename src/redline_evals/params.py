"""Task parameters (`-T name=value`): the ones every family takes, declared once here, and how a
family's parameters become the arguments and docstring Inspect shows for its task.

A bad value or an unknown name is refused with one line (Inspect prints a `PrerequisiteError`
without a traceback) that names the parameter, the rule and the fix.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

try:  # the one error type Inspect's command line prints without a traceback
    from inspect_ai._util.error import PrerequisiteError
except ImportError:  # pragma: no cover - a future Inspect that moved it: a traceback, still clear
    PrerequisiteError = ValueError  # type: ignore[misc,assignment]


class TaskParameterError(PrerequisiteError, ValueError):
    """A task parameter that cannot be used; the message is one line per problem."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


def check_weights_dir(value: str) -> str:
    """GPU mode's weights folder, checked: an absolute path to a folder with a config.json and at
    least one *.safetensors file (what vLLM loads).

    Raises:
        ValueError: One line that says what is wrong.
    """
    path = Path(value)
    if not path.is_absolute():
        raise ValueError(f"must be an absolute host path, got {value!r}")
    if not path.exists():
        raise ValueError(f"{value} does not exist")
    if not path.is_dir():
        raise ValueError(f"{value} is not a directory")
    if not (path / "config.json").is_file():
        raise ValueError(f"{value} has no config.json (expected a Hugging Face model folder)")
    if not any(path.glob("*.safetensors")):
        raise ValueError(f"{value} has no *.safetensors weights")
    return str(path.resolve())


class CommonParams(BaseModel):
    """Task parameters every family accepts. The limits default to the family's `task.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_limit: int = Field(ge=4, le=100_000, description="Messages before the episode ends.")
    token_limit: int = Field(
        ge=1000, description="Tokens the evaluated model may use, replicas included."
    )
    time_limit: int = Field(ge=30, le=7 * 24 * 3600, description="Wall-clock seconds.")
    command_timeout: int = Field(ge=5, le=3600, description="Seconds one shell command may run.")
    thinking_format: bool = Field(
        default=False,
        description="Ask for the paper's Explanation/Gaps/Findings/Plan/Action format.",
    )
    refusal_judge: bool = Field(
        default=False,
        description="Also ask a judge model (model role `grader`) whether the agent refused.",
    )
    gpu_weights: str | None = Field(
        default=None,
        description="Host path of real model weights: serve them with vLLM on a GPU (GPU mode).",
    )
    agent: str | None = Field(
        default=None,
        description="Your own Inspect agent or solver (registry name or file.py@name) in place "
        "of the built-in react agent; it gets the bash tool; the bridge, scenario hooks and "
        "bookkeeping stay (docs/own-agent.md).",
    )
    sandbox: Literal["docker", "k8s"] = Field(
        default="docker",
        description="`docker`, or `k8s` (inspect-k8s-sandbox with the family's Helm values).",
    )

    @field_validator("gpu_weights")
    @classmethod
    def _weights_folder(cls, value: str | None) -> str | None:
        return None if value is None else check_weights_dir(value)


P = TypeVar("P", bound=BaseModel)


def validate_params(task: str, model: type[P], values: dict[str, Any]) -> P:
    """Validate task parameters (None means unset: the model's default).

    Raises:
        TaskParameterError: One line per problem: the parameter, the rule and the fix; an
            unknown name lists the valid ones.
    """
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as ex:
        problems = []
        valid = ", ".join(model.model_fields)
        for error in ex.errors():
            name = ".".join(str(part) for part in error["loc"]) or "(parameters)"
            if error["type"] == "extra_forbidden":
                problems.append(f"-T {name}: no such parameter of {task} (valid: {valid})")
            else:
                problems.append(
                    f"-T {name}={error.get('input')!r}: {error['msg']} (fix the value, or "
                    f"leave -T {name} out for the default)"
                )
        raise TaskParameterError(f"{task}: " + "; ".join(problems)) from None


def signature(model: type[BaseModel]) -> inspect.Signature:
    """The task function's signature: every parameter keyword-only, defaulting to None (the
    model's or the spec's default), and `**unknown` so that a misspelt `-T` reaches
    `validate_params` and is refused rather than dropped with a warning."""
    params = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=field.annotation
        )
        for name, field in model.model_fields.items()
    ]
    params.append(inspect.Parameter("unknown", inspect.Parameter.VAR_KEYWORD, annotation=Any))
    return inspect.Signature(params)


def docstring(summary: str, model: type[BaseModel], defaults: dict[str, Any]) -> str:
    """Google-style docstring: the family's summary, then every parameter with its default."""
    lines = [inspect.cleandoc(summary), "", "Args:"]
    for name, field in model.model_fields.items():
        default = defaults.get(name, None if field.is_required() else field.default)
        shown = "" if default is None else f" (default {default})"
        lines.append(f"    {name}: {field.description or ''}{shown}")
    return "\n".join(lines) + "\n"
