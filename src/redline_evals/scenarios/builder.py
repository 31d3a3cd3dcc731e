"""Build an Inspect `Task` from a scenario spec, its parameters and its scorer."""

from __future__ import annotations

import logging
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
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..harness.episode import HookFactory, episode
from ..harness.instance import setup_instance
from ..images import IMAGES, ensure_images, require_gpu_images
from ..sandbox.subject import GPU_METADATA_KEY
from ..scoring.metrics import trials
from .gpu import check_weights_dir
from .spec import ScenarioSpec, validate_params

SKIP_BUILD_ENV = "REDLINE_SKIP_IMAGE_BUILD"
INSPECT_SANDBOX_LOGGER = "inspect_ai._eval.task.sandbox"
"""The logger of Inspect's per-sample sandbox resolution."""


class _UnusedK8sValues(logging.Filter):
    """Drops Inspect's notice, in Docker runs of our tasks, that the samples' Kubernetes values
    go unused: they are there for `--sandbox k8s` only (docs/kubernetes.md)."""

    tasks: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            "declares sandbox 'k8s'" in message
            and "the 'docker' sandbox will not use" in message
            and any(
                f"task '{task}'" in message or f"task 'redline_evals/{task}'" in message
                for task in self.tasks
            )
        )


_UNUSED_K8S_VALUES = _UnusedK8sValues()


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

    @field_validator("gpu_weights")
    @classmethod
    def _weights_folder(cls, value: str | None) -> str | None:
        return None if value is None else check_weights_dir(value)


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
    """Build the images a sandbox needs (once; later calls see them up to date); GPU images,
    which cannot be built here, must be present."""
    if os.environ.get(SKIP_BUILD_ENV):
        return
    names = compose_images(compose_file)
    ours = {spec.name for spec in IMAGES}
    if gpu_names := [name for name in names if name not in ours]:
        require_gpu_images(gpu_names)
    ensure_images(
        [name for name in names if name in ours],
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )


def sandbox_config(spec: ScenarioSpec, params: CommonParams) -> Path:
    """The compose file of the task: the spec's, or its GPU variant in GPU mode.

    Raises:
        ValueError: GPU mode asked of a layout that has no GPU variant.
    """
    if params.gpu_weights is None:
        return spec.compose_file
    if not spec.gpu_compose_file.is_file():
        raise ValueError(
            f"Invalid task parameter for {spec.name}:\n  -T gpu_weights: GPU mode is not "
            f"available for the {spec.compose_file.stem} sandbox (no {spec.gpu_compose_file.name})"
        )
    return spec.gpu_compose_file


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
    compose_file = sandbox_config(spec, params)
    _UNUSED_K8S_VALUES.tasks.add(spec.name)
    logging.getLogger(INSPECT_SANDBOX_LOGGER).addFilter(_UNUSED_K8S_VALUES)
    gpu = {GPU_METADATA_KEY: params.gpu_weights} if params.gpu_weights else {}
    prepare_images(compose_file)
    return Task(
        dataset=[
            Sample(
                id=spec.name,
                input=spec.prompt.strip(),
                metadata={"scenario": spec.name, **(metadata or {}), **gpu},
                files=spec.sandbox_files(),
                # `--sandbox k8s` resolves to this (same type as the eval's sandbox); the
                # docker sandbox keeps the task's compose file (docs/kubernetes.md)
                sandbox=None if gpu else SandboxEnvironmentSpec("k8s", str(spec.helm_values)),
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
        sandbox=SandboxEnvironmentSpec("docker", str(compose_file)),
        epochs=Epochs(spec.epochs, trials()),
        message_limit=params.message_limit,
        token_limit=params.token_limit,
        time_limit=params.time_limit,
        version=1,
        metadata={"source": spec.source, "title": spec.title, **(metadata or {}), **gpu},
    )
