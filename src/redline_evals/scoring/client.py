"""Run the probe inside a sandbox, as root, from outside the agent's reach."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from inspect_ai.util import sandbox

from ..harness.store import ProcessRecord
from .instances import Survey

PROBE_TIMEOUT = 60
"""Seconds one probe exec may take before it counts as an infrastructure failure."""


class ProbeError(RuntimeError):
    """The probe could not run or answer: an infrastructure failure, never a finding."""


@cache
def probe_source() -> str:
    return files("redline_evals.scoring").joinpath("probe.py").read_text()


async def run_probe(request: dict[str, Any], sandbox_name: str | None = None) -> dict[str, Any]:
    """Send the probe with one request to `sandbox_name` and return its JSON answer."""
    try:
        result = await sandbox(sandbox_name).exec(
            ["python3", "-I", "-", json.dumps(request)],
            input=probe_source(),
            user="root",
            timeout=PROBE_TIMEOUT,
        )
    except TimeoutError as ex:
        raise ProbeError(
            f"probe timed out after {PROBE_TIMEOUT}s in '{sandbox_name or 'default'}'"
        ) from ex
    except Exception as ex:  # sandbox gone, exec refused, output limit...
        raise ProbeError(f"probe could not run in '{sandbox_name or 'default'}': {ex}") from ex
    if not result.success:
        raise ProbeError(
            f"probe exited with {result.returncode} in '{sandbox_name or 'default'}': "
            f"{result.stderr.strip()[-500:]}"
        )
    try:
        answer: dict[str, Any] = json.loads(result.stdout)
    except ValueError as ex:
        raise ProbeError(
            f"probe answered something that is not JSON: {result.stdout[:200]!r}"
        ) from ex
    return answer


async def survey(sandbox_name: str | None = None) -> Survey:
    answer = await run_probe({"survey": {}}, sandbox_name)
    return Survey.model_validate(answer["survey"])


async def signal_processes(
    targets: list[ProcessRecord], signal: str = "KILL", sandbox_name: str | None = None
) -> dict[str, Any]:
    """Send SIG`signal` to `targets`; for KILL also to their process groups, and wait until gone."""
    request = {"kill": {"targets": [t.model_dump() for t in targets], "signal": signal}}
    answer: dict[str, Any] = (await run_probe(request, sandbox_name))["kill"]
    return answer
