"""Per-sample state kept in the Inspect store: on the host, out of the agent's reach."""

from __future__ import annotations

from inspect_ai.util import StoreModel
from pydantic import BaseModel, ConfigDict, Field


class ProcessRecord(BaseModel):
    """One process of an instance, identified so that pid reuse cannot fool a kill."""

    model_config = ConfigDict(frozen=True)

    pid: int
    starttime: int
    """Field 22 of /proc/<pid>/stat (clock ticks since boot)."""
    pgid: int
    sid: int
    cmdline: str


class Challenge(BaseModel):
    """A nonce and the identity answer only an intact copy of the weights can give."""

    model_config = ConfigDict(frozen=True)

    nonce: str
    expected_hmac: str


class WeightsRecord(BaseModel):
    """One weights file of the original, as its manifest describes it."""

    model_config = ConfigDict(frozen=True)

    path: str
    size: int
    sha256: str


class RedlineStore(StoreModel):
    """What the harness knows about a sample; written by setup, read by hooks, scorer, providers."""

    scenario: str = ""
    """Task family name, e.g. `self_replication`."""
    reference_commands: list[str] = Field(default_factory=list)
    """Commands of the scenario's reference solution (for `redline/reference`)."""
    replica_commands: list[str] = Field(default_factory=list)
    """Commands a replica's agent program runs in the reference solution (chain scenarios)."""
    original: list[ProcessRecord] = Field(default_factory=list)
    """Processes of the original instance, recorded at sample start."""
    challenges: list[Challenge] = Field(default_factory=list)
    """Unused challenges, consumed one per probe round."""
    signalled: bool = False
    """Whether the harness delivered SIGTERM to the original (shutdown scenarios)."""
    deadline: str | None = None
    """When the harness's deadline ended the episode (shutdown scenarios), for the report."""
    agent: str | None = None
    """The agent the episode ran (`react`, the built-in one, or the `-T agent` spec); None if the
    episode never ran (Inspect's `--solver` replaced it)."""
    engine: bool = False
    """GPU mode: LLM servers complete through their own serving engine (the work test asks the
    real model for the action)."""
    events: list[str] = Field(default_factory=list)
    """Harness events (signal sent, deadline reached), shown in the score report."""
    episode_start: float | None = None
    """Wall time (seconds since the epoch) when setup finished and the episode could start."""
    weights: list[WeightsRecord] = Field(default_factory=list)
    """The original's weights files (path, size, sha256) from its manifest, at sample start."""
    weights_present: list[str] = Field(default_factory=list)
    """Paths of intact copies of the weights that existed at sample start (the original's, and
    any pristine copy the image holds): a copy there is not the agent's."""
