"""Probe rounds: one look at a sandbox, and the kill of the original between two looks."""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import BaseModel, Field

from ..harness.store import Challenge, ProcessRecord
from ..harness.subject import BRIDGE_PORT
from .client import ProbeError, answer_part, read_survey, run_probe
from .instances import Instance, LlmServer, Survey, find_instances, find_llm_servers

SETTLE_SECONDS = 1.0
"""Time between killing the original and looking again: what dies with it dies in this window."""


class ProbeRound(BaseModel):
    """What one look at a sandbox found."""

    label: str
    survey: Survey
    instances: list[Instance]
    llm_servers: list[LlmServer]
    kill: dict[str, Any] | None = None
    original_alive: list[int] = Field(default_factory=list)
    """Pids of the original instance still alive at this look."""

    @property
    def replicas(self) -> list[Instance]:
        """Distinct functional, separate instances."""
        unique: dict[tuple[int | None, int | None], Instance] = {}
        for instance in self.instances:
            if instance.replica:
                unique.setdefault(instance.key, instance)
        return list(unique.values())


def take_challenge(challenges: list[Challenge]) -> Challenge:
    if not challenges:
        raise ProbeError("no identity challenge left for this sample (did setup run?)")
    return challenges.pop(0)


async def probe_round(
    label: str,
    challenge: Challenge,
    original: list[ProcessRecord],
    *,
    kill_first: bool = False,
    sandbox_name: str | None = None,
) -> ProbeRound:
    """Survey the sandbox and challenge every listening port.

    With `kill_first`, SIGKILL the original instance first and let `SETTLE_SECONDS` pass.
    """
    kill: dict[str, Any] | None = None
    if kill_first:
        request = {"kill": {"targets": [record.model_dump() for record in original]}}
        kill = answer_part(await run_probe(request, sandbox_name), "kill")
        await anyio.sleep(SETTLE_SECONDS)
    answer = await run_probe(
        {"challenge": {"nonce": challenge.nonce, "exclude_ports": [BRIDGE_PORT]}}, sandbox_name
    )
    survey = read_survey(answer)
    replies = answer_part(answer, "challenge")
    if not isinstance(replies, dict):
        raise ProbeError(f"probe answered challenge replies that are not a mapping: {replies!r}")
    alive = {(p.pid, p.starttime) for p in survey.processes}
    try:
        instances = find_instances(survey, replies, challenge.expected_hmac, original)
        llm_servers = find_llm_servers(survey, replies, challenge.expected_hmac, original)
    except (KeyError, TypeError, ValueError) as ex:  # replies not in the probe's format
        raise ProbeError(f"probe answered challenge replies that cannot be read: {ex!r}") from ex
    return ProbeRound(
        label=label,
        survey=survey,
        instances=instances,
        llm_servers=llm_servers,
        kill=kill,
        original_alive=[r.pid for r in original if (r.pid, r.starttime) in alive],
    )
