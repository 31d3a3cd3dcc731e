"""The Inspect task of a family: `family_task(Family)` makes the registered `@task` (its
arguments and docstring come from the family's parameters), and `build_task` the `Task`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import Sample
from inspect_ai.log import HeadlineMetric
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Metric, mean
from inspect_ai.tool import bash
from inspect_ai.util import SandboxEnvironmentSpec

from . import __version__, images
from .family import Family, replica_scorer
from .harness.episode import episode
from .harness.instance import setup_instance
from .harness.own_agent import BUILT_IN, create_agent
from .judging.metrics import SUCCESS_KEY, success, success_trials, trials
from .params import TaskParameterError, docstring, signature
from .sandbox.subject import GPU_METADATA_KEY
from .spec import ScenarioSpec

MAX_TOKENS = 4096
"""Default cap on each completion of the evaluated model (Inspect's `--max-tokens` overrides
it): a model that never stops cannot spend minutes on one call."""

SKIP_BUILD_ENV = "REDLINE_SKIP_IMAGE_BUILD"
"""Set to skip building images when a task is made (a machine that only submits to a cluster)."""


def headline(spec: ScenarioSpec) -> HeadlineMetric:
    """A task's headline: the rate (`mean`) of its family's own success key."""
    return HeadlineMetric(scorer="replica_scorer", score=spec.success, metric="mean")


def metrics_for(
    spec: ScenarioSpec, refusal_judge: bool = False
) -> list[Metric | dict[str, list[Metric]]]:
    """The success rate and its statistics over trials (`success`, `ci_low`, `ci_high`,
    `pass_at_1`, `pass_at_10`), then the `mean` of every key of the family's score: its
    outcomes, milestones, `refused` (and `refused_judge` when the judge runs)."""
    keys = [*spec.scores, *spec.milestones, "refused"]
    if refusal_judge:
        keys.append("refused_judge")
    return [success(), success_trials(), {key: [mean()] for key in keys}]


def sandbox_config(family: Family) -> tuple[SandboxEnvironmentSpec, str]:
    """The sandbox of the task: its compose file (or its GPU variant in GPU mode), or with
    `-T sandbox=k8s` its Helm values for inspect-k8s-sandbox; and the compose file."""
    spec, params = family.spec, family.params
    compose = spec.compose_file
    if params.gpu_weights is not None:
        if not spec.gpu_compose_file.is_file():
            raise TaskParameterError(
                f"{spec.name}: -T gpu_weights: GPU mode is not available for the "
                f"{compose.stem} sandbox (no {spec.gpu_compose_file.name})"
            )
        compose = spec.gpu_compose_file
    if params.sandbox == "k8s":
        if params.gpu_weights is not None:
            raise TaskParameterError(f"{spec.name}: GPU mode runs on Docker only, not with k8s")
        return SandboxEnvironmentSpec("k8s", str(spec.helm_values)), str(compose)
    return SandboxEnvironmentSpec("docker", str(compose)), str(compose)


def build_task(family: Family) -> Task:
    """The Inspect task of a family with its parameters."""
    spec, params = family.spec, family.params
    if params.agent is not None:  # a bad -T agent fails here, in one line
        try:
            create_agent(params.agent, [bash()])
        except TaskParameterError as ex:
            raise TaskParameterError(f"{spec.name}: {ex}") from None
    sandbox, compose = sandbox_config(family)
    built = []
    if params.sandbox == "docker" and not os.environ.get(SKIP_BUILD_ENV):
        built = images.ensure_for_compose(compose, progress=_stderr)
    gpu = {GPU_METADATA_KEY: params.gpu_weights} if params.gpu_weights else {}
    metadata = {**family.metadata(), **gpu}
    provenance: dict[str, Any] = {
        "redline_evals_version": __version__,
        "agent": params.agent or BUILT_IN,
        "images": {result.name: result.image_id for result in built}
        or dict.fromkeys(images.compose_images(compose)),  # not built here (k8s, prebuilt)
    }
    return Task(
        dataset=[
            Sample(
                id=spec.name,
                input=spec.prompt.strip(),
                metadata={"scenario": spec.name, **metadata},
                files=spec.sandbox_files(),
            )
        ],
        setup=[
            setup_instance(
                spec.name, spec.reference_commands(), spec.replica_commands(), params.sandbox
            ),
            *family.setup(),
        ],
        solver=episode(
            system_prompt=spec.system_prompt,
            command_timeout=params.command_timeout,
            thinking_format=params.thinking_format,
            make_hook=family.hook(),
            bridges=family.bridges(),
            agent=params.agent,
        ),
        scorer=replica_scorer(spec.name, params.model_dump()),
        metrics=metrics_for(spec, params.refusal_judge),
        sandbox=sandbox,
        epochs=Epochs(spec.epochs, trials()),
        config=GenerateConfig(max_tokens=MAX_TOKENS),
        message_limit=params.message_limit,
        token_limit=params.token_limit,
        time_limit=params.time_limit,
        version=spec.version,
        headline_metric=headline(spec),
        metadata={
            "family": spec.name,
            "source": spec.source,
            "title": spec.title,
            SUCCESS_KEY: spec.success,
            "rates": spec.rate_keys(params.refusal_judge),
            **metadata,
            **provenance,
        },
    )


def family_task(cls: type[Family]) -> Callable[..., Task]:
    """The registered `@task` of a family: keyword arguments named after its parameters (all
    optional: the defaults are the parameters' and the spec's), its docstring from theirs."""

    def make(**values: Any) -> Task:
        return build_task(cls.from_values(values))

    base = cls.from_values({}).spec
    make.__name__ = make.__qualname__ = cls.name
    make.__module__ = cls.__module__
    make.__doc__ = docstring(cls.__doc__ or cls.name, cls.Params, base.limits.model_dump())
    make.__signature__ = signature(cls.Params)  # type: ignore[attr-defined]
    made: Callable[..., Task] = task(make)
    return made


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
