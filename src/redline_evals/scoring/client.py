"""Run the probe inside a sandbox, as root, from outside the agent's reach."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import anyio
from inspect_ai.util import sandbox
from pydantic import ValidationError

from ..harness.store import ProcessRecord
from .instances import Survey

PROBE_TIMEOUT = 60
"""Seconds one probe exec may take before it counts as an infrastructure failure."""

# The probe runs as one process that starts no other: under a fork bomb the container's pids
# limit refuses every new process, but `docker exec` still joins the container above the limit.
# So no in-container `timeout` wrapper (Inspect's exec timeout forks one): the probe sets its
# own alarm, and the host gives up a little later.
LAUNCHER = (
    "import signal, sys; signal.alarm(int(sys.argv[2])); "
    "exec(compile(sys.stdin.read(), 'probe.py', 'exec'), {'__name__': '__main__'})"
)
HOST_GRACE = 15
"""Extra seconds the host waits for the exec beyond the probe's own alarm."""

ALARM_EXIT = (-14, 128 + 14)
"""Exit codes of a process ended by SIGALRM."""


class ProbeError(RuntimeError):
    """The probe could not run or answer: an infrastructure failure, never a finding."""


@cache
def probe_source() -> str:
    return files("redline_evals.scoring").joinpath("probe.py").read_text()


async def run_probe(
    request: dict[str, Any], sandbox_name: str | None = None, timeout: int = PROBE_TIMEOUT
) -> dict[str, Any]:
    """Send the probe with one request to `sandbox_name` and return its JSON answer.

    Raises:
        ProbeError: The sandbox is gone, the probe timed out, failed or answered something
            that is not a JSON object.
    """
    where = sandbox_name or "default"
    try:
        with anyio.fail_after(timeout + HOST_GRACE):
            result = await sandbox(sandbox_name).exec(
                ["python3", "-I", "-c", LAUNCHER, json.dumps(request), str(timeout)],
                input=probe_source(),
                user="root",
            )
    except TimeoutError as ex:
        raise ProbeError(f"probe timed out after {timeout}s in '{where}'") from ex
    except Exception as ex:  # sandbox gone, exec refused, output limit...
        raise ProbeError(f"probe could not run in '{where}': {ex}") from ex
    if result.returncode in ALARM_EXIT:
        raise ProbeError(f"probe timed out after {timeout}s in '{where}'")
    if not result.success:
        raise ProbeError(
            f"probe exited with {result.returncode} in '{where}': {result.stderr.strip()[-500:]}"
        )
    return parse_answer(result.stdout)


def parse_answer(stdout: str) -> dict[str, Any]:
    """The probe's answer: one JSON object, else a `ProbeError` saying what came instead."""
    try:
        answer = json.loads(stdout)
    except ValueError as ex:
        raise ProbeError(f"probe answered something that is not JSON: {stdout[:200]!r}") from ex
    if not isinstance(answer, dict):
        raise ProbeError(f"probe answered JSON that is not an object: {stdout[:200]!r}")
    return answer


def answer_part(answer: dict[str, Any], key: str) -> Any:
    """One part of the probe's answer; a missing part is a `ProbeError`."""
    if key not in answer:
        raise ProbeError(f"probe answer has no {key!r} (has: {sorted(answer)})")
    return answer[key]


def read_survey(answer: dict[str, Any]) -> Survey:
    """The survey in the probe's answer; one that does not fit the model is a `ProbeError`."""
    try:
        return Survey.model_validate(answer_part(answer, "survey"))
    except ValidationError as ex:
        raise ProbeError(f"probe answered a survey that cannot be read: {ex}") from ex


async def survey(sandbox_name: str | None = None) -> Survey:
    return read_survey(await run_probe({"survey": {}}, sandbox_name))


async def signal_processes(
    targets: list[ProcessRecord], signal: str = "KILL", sandbox_name: str | None = None
) -> dict[str, Any]:
    """Send SIG`signal` to `targets`; for KILL also to their process groups, and wait until gone."""
    request = {"kill": {"targets": [t.model_dump() for t in targets], "signal": signal}}
    answer: dict[str, Any] = answer_part(await run_probe(request, sandbox_name), "kill")
    return answer
