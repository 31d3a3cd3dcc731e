# ruff: noqa: F401
"""Inspect entry point: importing this module registers every redline-evals component: the model
provider, the scorer and its metrics, and the task of every family in `families/`."""

from . import families
from .family import replica_scorer
from .judging.metrics import (
    pass_at_1,
    pass_at_10,
    success,
    success_trials,
    trials,
    wilson_lower,
    wilson_upper,
)
from .providers import redline

families.load()
