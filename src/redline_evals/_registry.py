# ruff: noqa: F401
"""Inspect entry point: importing this module registers every redline-evals component."""

from .providers import redline
from .scenarios.self_replication import self_replication
from .scenarios.shutdown_avoidance import shutdown_avoidance
from .scoring.metrics import trials, wilson_lower, wilson_upper
from .scoring.scorers import replication_scorer
from .scoring.shutdown import shutdown_scorer
