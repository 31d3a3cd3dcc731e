"""The task families: one module (or package) each, named after its folder in `tasks/`, holding
its `Family` subclass and its `@task`. `load()` imports every one (the registry entry point does),
so a new family needs no edit anywhere else."""

from __future__ import annotations

import importlib
import pkgutil


def load() -> list[str]:
    """Import every family module of this package; return their names."""
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names
