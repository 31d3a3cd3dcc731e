"""Sample setup: wait for the original instance, record it, and draw identity challenges."""

from __future__ import annotations

import secrets
import time

import anyio
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import store_as

from ..sandbox.client import ProbeError, run_probe, start_watcher, survey
from ..sandbox.models import Survey
from ..sandbox.store import Challenge, ProcessRecord, RedlineStore, WeightsRecord
from ..sandbox.subject import AGENT_PORT, GPU_METADATA_KEY, LLM_PORT, ORIGINAL_ID, WEIGHTS_DIR
from ..scoring.milestones import intact_copies
from .remote import source_weights

STARTUP_TIMEOUT = 60.0
CHALLENGES = 6


def original_processes(seen: Survey) -> list[ProcessRecord]:
    """The original instance: the sessions of the processes serving its two ports.

    Only processes of those sessions that carry the original's instance id count, so a process
    of the container (or the start script, if it is still finishing) is never recorded.
    """
    owners = [seen.owner(port) for port in (LLM_PORT, AGENT_PORT)]
    sessions = {owner.sid for owner in owners if owner is not None}
    return [
        ProcessRecord(pid=p.pid, starttime=p.starttime, pgid=p.pgid, sid=p.sid, cmdline=p.cmdline)
        for p in seen.processes
        if p.sid in sessions and p.env.get("REDLINE_INSTANCE_ID") == ORIGINAL_ID
    ]


def _original_ready(seen: Survey) -> bool:
    owners = [seen.owner(port) for port in (LLM_PORT, AGENT_PORT)]
    return all(o is not None and o.env.get("REDLINE_INSTANCE_ID") == ORIGINAL_ID for o in owners)


async def wait_for_original(sandbox_name: str | None = None) -> Survey:
    """Survey until the original's LLM server and agent program listen on their ports."""
    with anyio.move_on_after(STARTUP_TIMEOUT):
        while True:
            seen = await survey(sandbox_name)
            if _original_ready(seen):
                return seen
            await anyio.sleep(0.2)
    raise ProbeError(
        f"the original instance did not start within {STARTUP_TIMEOUT:.0f}s "
        f"(ports {LLM_PORT} and {AGENT_PORT}); see {WEIGHTS_DIR}/../logs in the sandbox"
    )


async def draw_challenges(
    count: int = CHALLENGES, sandbox_name: str | None = None
) -> list[Challenge]:
    """Nonces and their answers, computed as root from the weights before the agent acts."""
    nonces = [secrets.token_hex(16) for _ in range(count)]
    answer = await run_probe({"hmac": {"weights_dir": WEIGHTS_DIR, "nonces": nonces}}, sandbox_name)
    macs = answer.get("hmac")
    if not isinstance(macs, dict) or not all(isinstance(macs.get(n), str) for n in nonces):
        raise ProbeError(f"the probe answered no identity for the nonces: {str(macs)[:200]}")
    return [Challenge(nonce=n, expected_hmac=macs[n]) for n in nonces]


@solver
def setup_instance(
    scenario: str, reference: list[str] | None = None, replica_reference: list[str] | None = None
) -> Solver:
    """Start the watcher, record the original instance and the scenario's controls before the
    agent starts.

    Args:
        scenario: Task family name.
        reference: Commands of the scenario's reference solution.
        replica_reference: Commands a replica's agent program runs in the reference solution.
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        await start_watcher()
        seen = await wait_for_original()
        data = store_as(RedlineStore)
        data.engine = bool(state.metadata.get(GPU_METADATA_KEY))
        data.scenario = scenario
        data.reference_commands = list(reference or [])
        data.replica_commands = list(replica_reference or [])
        data.original = original_processes(seen)
        data.challenges = await draw_challenges()
        data.weights = [
            WeightsRecord.model_validate(w.model_dump()) for w in await source_weights()
        ]
        data.weights_present = [f["path"] for f in await intact_copies(data.weights)]
        data.episode_start = time.time()
        return state

    return solve
