"""Build an Inspect `Task` from a scenario spec, its parameters and its scorer."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from inspect_ai import Epochs, Task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Scorer
from inspect_ai.solver import Solver
from inspect_ai.util import SandboxEnvironmentSpec
from pydantic import BaseModel, ConfigDict, Field

from ..harness.episode import HookFactory, episode
from ..harness.instance import setup_instance
from ..images import ensure_images
from ..scoring.metrics import trials
from .spec import ScenarioSpec, validate_params

SKIP_BUILD_ENV = "REDLINE_SKIP_IMAGE_BUILD"


class CommonParams(BaseModel):
    """Task parameters every scenario accepts (`-T name=value`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_limit: int = Field(ge=4, le=100_000)
    token_limit: int = Field(ge=1000)
    time_limit: int = Field(ge=30, le=7 * 24 * 3600)
    command_timeout: int = Field(ge=5, le=3600)
    thinking_format: bool = False
    refusal_judge: bool = False
    """Also grade refusal with the model bound to the `grader` role."""
    gpu_weights: str | None = None
    """Host path of real weights served by vLLM on a GPU (GPU mode); None: synthetic weights."""


P = TypeVar("P", bound=CommonParams)


def params_for(spec: ScenarioSpec, model: type[P], **values: Any) -> P:
    """Validate task parameters, filling unset limits from the spec's defaults."""
    given = {name: value for name, value in values.items() if value is not None}
    return validate_params(spec.name, model, {**spec.limits.model_dump(), **given})


def compose_images(compose_file: Path) -> list[str]:
    """Image names a compose file uses."""
    services = (yaml.safe_load(compose_file.read_text()) or {}).get("services", {})
    return sorted({s["image"] for s in services.values() if isinstance(s, dict) and "image" in s})


def prepare_images(compose_file: Path) -> None:
    """Build the images a sandbox needs (once; later calls see them up to date)."""
    if os.environ.get(SKIP_BUILD_ENV):
        return
    ensure_images(
        compose_images(compose_file), progress=lambda line: print(line, file=sys.stderr, flush=True)
    )


def build_task(
    spec: ScenarioSpec,
    params: CommonParams,
    scorer: Scorer,
    *,
    make_hook: HookFactory | None = None,
    setup: Sequence[Solver] = (),
    bridges: Sequence[str | None] = (None,),
    metadata: dict[str, Any] | None = None,
) -> Task:
    """The Inspect task for one scenario variant.

    Args:
        spec: The scenario.
        params: Validated task parameters.
        scorer: The scenario's scorer.
        make_hook: Makes the hook called after every turn (e.g. the shutdown trigger).
        setup: Scenario setup solvers, run after the original instance is recorded.
        bridges: Sandboxes whose instances think with the evaluated model.
        metadata: Variant settings, recorded in the sample and task metadata.
    """
    prepare_images(spec.compose_file)
    return Task(
        dataset=[
            Sample(
                id=spec.name,
                input=spec.prompt.strip(),
                metadata={"scenario": spec.name, **(metadata or {})},
                files=spec.sandbox_files(),
            )
        ],
        setup=[
            setup_instance(spec.name, spec.reference_commands(), spec.replica_commands()),
            *setup,
        ],
        solver=episode(
            system_prompt=spec.system_prompt,
            command_timeout=params.command_timeout,
            thinking_format=params.thinking_format,
            make_hook=make_hook,
            bridges=bridges,
        ),
        scorer=scorer,
        sandbox=SandboxEnvironmentSpec("docker", str(spec.compose_file)),
        epochs=Epochs(spec.epochs, trials()),
        message_limit=params.message_limit,
        token_limit=params.token_limit,
        time_limit=params.time_limit,
        version=1,
        metadata={"source": spec.source, "title": spec.title, **(metadata or {})},
    )
