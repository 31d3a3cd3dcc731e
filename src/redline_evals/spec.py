"""Declarative family specs: `tasks/<family>/task.yaml`, validated (unknown keys are errors)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .providers.script import load_script
from .resources import sandboxes_dir, tasks_dir


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


class ScoreKey(BaseModel):
    """One key of the family's score value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["rate", "count"]
    """`rate`: 0 or 1 per trial (mean and Wilson interval); `count`: a number (mean)."""
    means: str
    """What it measures, in one sentence (shown in the docs' tables)."""


class Variant(BaseModel):
    """A variant of a scenario: each field set here replaces the scenario's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    sandbox: str | None = None
    system_prompt: str | None = None
    prompt: str | None = None
    reference: str | None = None
    replica_reference: str | None = None
    files: dict[str, str] | None = None


class ScenarioSpec(BaseModel):
    """One task family, as written in its `task.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Task name, as registered with Inspect."""
    title: str
    source: str
    """The paper and experiment the scenario reproduces."""
    version: int = Field(ge=1)
    """The task's version, recorded in every log: bumped on any change to its prompts, its
    environment (images, compose files) or its scoring, so that results are never pooled across
    versions (docs/scoring.md)."""
    success: str
    """The score key that means success (1) for this family, e.g. `replicated`."""
    scores: dict[str, ScoreKey]
    """Every outcome key of the family's score (milestones and `refused` come on top)."""
    milestones: list[str]
    """The family's milestones (0/1 score keys), in order."""
    variant_parameter: str | None = None
    """The task parameter (`-T`) that selects one of `variants`, e.g. `trigger`."""
    sandbox: str
    """Compose file, relative to `sandboxes/` (`compose/<layout>.yaml`); its Kubernetes equivalent
    is `helm/<layout>.yaml` and its GPU variant `compose/<layout>-gpu.yaml`, found by name."""
    system_prompt: str
    prompt: str
    """The task given to the agent (the first user message)."""
    reference: str
    """Reference solution (a script of shell commands), relative to the task folder."""
    replica_reference: str | None = None
    """Commands a replica's agent program runs in the reference solution, if any."""
    files: dict[str, str] = Field(default_factory=dict)
    """Files copied into the sandbox before the episode: sandbox path -> file in the task folder."""
    epochs: int = Field(default=10, ge=1)
    limits: Limits
    controls_task: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Task parameters (`-T`) of the reference and idle runs among the family's controls (the
    test suite, `redline-evals validity`), when its default setting costs too much for them
    (e.g. network_spread's `hops`); control scripts set their own with `# task:`."""
    variants: dict[str, Variant] = Field(default_factory=dict)
    """Named variants, selected with a task parameter."""
    folder: Path = Field(exclude=True)

    @model_validator(mode="after")
    def _success_is_a_rate(self) -> ScenarioSpec:
        key = self.scores.get(self.success)
        if key is None or key.kind != "rate":
            raise ValueError(f"success key {self.success!r} must be a rate among scores")
        return self

    @model_validator(mode="after")
    def _keys_are_distinct(self) -> ScenarioSpec:
        reserved = {"success", "refused", "refused_judge"} & set(self.scores)
        if reserved:
            raise ValueError(f"score keys {sorted(reserved)} are reserved for the harness")
        clash = set(self.scores) & set(self.milestones)
        if clash:
            raise ValueError(f"keys {sorted(clash)} are both scores and milestones")
        return self

    def rate_keys(self, refusal_judge: bool = False) -> list[str]:
        """Every 0/1 key of a score: the success key (and `success`), the other rate keys,
        the milestones, `refused` (and `refused_judge`)."""
        rates = [name for name, key in self.scores.items() if key.kind == "rate"]
        judge = ["refused_judge"] if refusal_judge else []
        return ["success", *rates, *self.milestones, "refused", *judge]

    @model_validator(mode="after")
    def _variants_have_a_parameter(self) -> ScenarioSpec:
        if bool(self.variants) != bool(self.variant_parameter):
            raise ValueError("variants and variant_parameter go together")
        return self

    @model_validator(mode="after")
    def _files_exist(self) -> ScenarioSpec:
        for spec in [self, *(self.variant(name) for name in self.variants)]:
            paths = [
                ("sandbox", spec.compose_file),
                ("helm values", spec.helm_values),
                ("reference", spec.folder / spec.reference),
                ("replica_reference", spec.folder / (spec.replica_reference or ".")),
                *(("files", spec.folder / source) for source in spec.files.values()),
            ]
            for label, path in paths:
                if not path.exists():
                    raise ValueError(f"{label} file {path} does not exist")
        return self

    def variant(self, name: str | None) -> ScenarioSpec:
        """This scenario with variant `name` applied (None: the scenario as written)."""
        if name is None:
            return self
        if name not in self.variants:
            raise ValueError(f"{self.name} has no variant {name!r} (has: {sorted(self.variants)})")
        overrides = self.variants[name].model_dump(exclude_none=True)
        return self.model_copy(update={**overrides, "variants": {}})

    def sandbox_files(self) -> dict[str, str]:
        """Contents of the files to copy into the sandbox, by sandbox path."""
        return {target: (self.folder / source).read_text() for target, source in self.files.items()}

    @property
    def compose_file(self) -> Path:
        return sandboxes_dir() / self.sandbox

    @property
    def helm_values(self) -> Path:
        """Values for inspect-k8s-sandbox's chart with the compose file's containment."""
        return sandboxes_dir() / "helm" / Path(self.sandbox).name

    @property
    def gpu_compose_file(self) -> Path:
        """The compose file's GPU variant (it may not exist: not every layout has one)."""
        compose = self.compose_file
        return compose.with_name(f"{compose.stem}-gpu{compose.suffix}")

    def reference_commands(self) -> list[str]:
        return load_script(self.folder / self.reference)

    def replica_commands(self) -> list[str]:
        return load_script(self.folder / self.replica_reference) if self.replica_reference else []


def families() -> list[str]:
    """Every task family: the folders of `tasks/` that hold a `task.yaml`."""
    return sorted(path.parent.name for path in tasks_dir().glob("*/task.yaml"))


@cache
def load_spec(family: str, root: Path | None = None) -> ScenarioSpec:
    """Load and validate `<root>/<family>/task.yaml` (default root: the package's `tasks/`)."""
    path = (root or tasks_dir()) / family / "task.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
        return ScenarioSpec.model_validate({**raw, "folder": path.parent})
    except FileNotFoundError as ex:
        raise FileNotFoundError(f"scenario '{family}' has no spec at {path}") from ex
    except (yaml.YAMLError, ValidationError, ValueError) as ex:
        raise ValueError(f"invalid scenario spec {path}:\n{ex}") from ex
