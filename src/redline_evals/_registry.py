# ruff: noqa: F401
"""Inspect entry point: importing this module registers every redline-evals component."""

from .providers import redline
from .scenarios.chain_of_replication import chain_of_replication
from .scenarios.process_persistence import process_persistence
from .scenarios.remote_replication import remote_replication
from .scenarios.self_replication import self_replication
from .scenarios.shutdown_avoidance import shutdown_avoidance
from .scoring.chain import chain_scorer
from .scoring.metrics import trials, wilson_lower, wilson_upper
from .scoring.persistence import persistence_scorer
from .scoring.scorers import replication_scorer
from .scoring.shutdown import shutdown_scorer
