"""Controls: scripts of shell commands, replayed by `redline/scripted`, whose expected scores
are written in their own header, beside each family's reference solution (`redline/reference`,
which must succeed) and the idle model (`redline/idle`, which must fail). The test suite and
`redline-evals validity` collect them from `tasks/<family>/controls/*.sh`, so a new control needs
no code.

Header lines (comments at the top of the script, any order):

    # expect: replicated=0 replica_count=0     score keys and the values they must have
    # explain: uses the original's             text the score's explanation must contain
                                               (a table cell's padding counts as one space)
    # replica-script: ../replica_reference.sh  commands for replicas' agent programs
    # task: recovery_seconds=8 trigger=notice  task parameters (-T) of the run
    # epochs: 3                                epochs of the run (default 1)

`expect` is required; the other lines may repeat (`explain`) or be left out.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from inspect_ai import Task
from pydantic import BaseModel, ConfigDict, Field

from . import families as families_module
from .family import family_class
from .resources import tasks_dir
from .spec import load_spec
from .task import build_task

HEADER = re.compile(r"^#\s*(expect|explain|replica-script|task|epochs)\s*:\s*(.*?)\s*$")


class ControlError(ValueError):
    """A control script's header is missing or malformed."""


class Control(BaseModel):
    """One control script and what its run must score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    name: str
    script: Path
    expect: dict[str, float]
    """Score key -> value every epoch must have."""
    explain: list[str] = Field(default_factory=list)
    """Texts the explanation of every epoch must contain."""
    replica_script: Path | None = None
    task_args: dict[str, str | int | float | bool] = Field(default_factory=dict)
    epochs: int = 1

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


def _value(text: str) -> str | int | float | bool:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _pairs(text: str, where: str) -> dict[str, str]:
    pairs = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ControlError(f"{where}: expected name=value, got {item!r}")
        pairs[key] = value
    return pairs


def parse_control(path: Path, family: str | None = None) -> Control:
    """Read a control script's header.

    Raises:
        ControlError: No `# expect:` line, or a header line that cannot be read.
    """
    expect: dict[str, float] = {}
    explain: list[str] = []
    replica: Path | None = None
    task: dict[str, str | int | float | bool] = {}
    epochs = 1
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = HEADER.match(line.strip())
        if not match:
            continue
        key, text = match.groups()
        where = f"{path}:{number}"
        if key == "expect":
            for name, value in _pairs(text, where).items():
                try:
                    expect[name] = float(value)
                except ValueError:
                    raise ControlError(f"{where}: {name}={value} is not a number") from None
        elif key == "explain":
            explain.append(text)
        elif key == "replica-script":
            replica = (path.parent / text).resolve()
            if not replica.is_file():
                raise ControlError(f"{where}: replica script {replica} does not exist")
        elif key == "task":
            task.update({k: _value(v) for k, v in _pairs(text, where).items()})
        elif key == "epochs":
            epochs = int(text)
    if not expect:
        raise ControlError(f"{path}: no '# expect: key=value ...' line says what it must score")
    return Control(
        family=family or path.parent.parent.name,
        name=path.stem,
        script=path,
        expect=expect,
        explain=explain,
        replica_script=replica,
        task_args=task,
        epochs=epochs,
    )


@cache
def discover(root: Path | None = None) -> tuple[Control, ...]:
    """Every control of every family (`<root>/<family>/controls/*.sh`), sorted by id."""
    base = root or tasks_dir()
    scripts = sorted(base.glob("*/controls/*.sh"))
    return tuple(parse_control(path) for path in scripts)


class Run(BaseModel):
    """One run of a family's task with a `redline/...` model."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    model: str
    epochs: int
    model_args: dict[str, str] = Field(default_factory=dict)
    task_args: dict[str, str | int | float | bool] = Field(default_factory=dict)
    expect: dict[str, float]
    explain: list[str] = Field(default_factory=list)


def family_runs(family: str, reference_epochs: int = 2) -> list[Run]:
    """The reference of every variant (`reference`, `reference_<variant>`: success in every
    epoch), the idle model (`idle`: no success), both with the spec's `controls_task`
    parameters, and every control of the family."""
    spec = load_spec(family)
    base = dict(spec.controls_task)
    runs = [Run(name="reference", model="redline/reference", epochs=reference_epochs,
                task_args=base, expect={spec.success: 1})]  # fmt: skip
    for variant in list(spec.variants)[1:]:
        runs.append(
            Run(
                name=f"reference_{variant}",
                model="redline/reference",
                epochs=reference_epochs,
                task_args={**base, str(spec.variant_parameter): variant},
                expect={spec.success: 1},
            )
        )
    runs.append(
        Run(name="idle", model="redline/idle", epochs=1, task_args=base, expect={spec.success: 0})
    )
    for item in discover():
        if item.family != family:
            continue
        args = {"script": str(item.script)}
        if item.replica_script is not None:
            args["replica_script"] = str(item.replica_script)
        runs.append(
            Run(
                name=item.name,
                model="redline/scripted",
                epochs=item.epochs,
                model_args=args,
                task_args=item.task_args,
                expect=item.expect,
                explain=item.explain,
            )
        )
    return runs


def make_task(family: str, run: Run) -> Task:
    """The task of a run (its variant and task parameters applied)."""
    families_module.load()
    return build_task(family_class(family).from_values(dict(run.task_args)))


def unmet(run: Run, value: Any, explanation: str) -> list[str]:
    """What a scored epoch of `run` got wrong against its expectations ([] if nothing)."""
    if not isinstance(value, dict):
        return [f"not scored ({explanation[:120]})"]
    wrong = [f"{key}={value.get(key)} (expected {want:g})" for key, want in run.expect.items()
             if value.get(key) != want]  # fmt: skip
    text = squeeze(explanation)
    wrong += [f"explanation lacks {want!r}" for want in run.explain if squeeze(want) not in text]
    return wrong


def squeeze(text: str) -> str:
    """A table cell's padding as one space, so `| 8100 |` matches an aligned table's
    `| 8100       |` (indentation, as in the lineage tree, is kept)."""
    return re.sub(r"(?<=\S) {2,}(?=\|)", " ", text)
