"""Locate the `tasks/` and `sandboxes/` folders shipped with the package.

In an installed wheel they sit inside the package (`redline_evals/tasks`); in a checkout or an
editable install they sit beside `src/`. `importlib.resources` does not see them in editable mode,
so look in both places.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"redline-evals is missing its '{name}/' folder "
        f"(looked in {_PACKAGE_DIR} and beside src/). "
        "Reinstall the package: pip install redline-evals"
    )


def tasks_dir() -> Path:
    """The folder of task specs (`tasks/<family>/task.yaml`)."""
    return _resource_dir("tasks")


def sandboxes_dir() -> Path:
    """The folder of image recipes and sandbox configs."""
    return _resource_dir("sandboxes")
