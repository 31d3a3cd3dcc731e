"""Run the in-sandbox scripts (the probe, the watcher) as root, from outside the agent's reach.

A script is sent on the exec's stdin with its request, never in argv (which every process in
the sandbox can read): a one-line header, then the sources of the modules it needs. The launcher
registers each module and calls the last one's `main(request)`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any, Protocol, TypeVar

import anyio
from inspect_ai.util import ExecResult, sandbox
from pydantic import BaseModel, ValidationError

from .models import FoundFiles, KillAnswer, Look, Survey
from .store import ProcessRecord

PROBE_TIMEOUT = 60
"""Seconds one probe exec may take before it counts as an infrastructure failure."""

# The script runs as one process that starts no other (no in-container `timeout` wrapper: it
# sets its own alarm), so it needs a single pid. Under a fork bomb the watcher frees pids within
# a tenth of a second; an exec that could not start is tried again (`EXEC_TRIES`).
LAUNCHER = """\
import json, signal, sys, types
signal.alarm(int(sys.argv[1]))
head = json.loads(sys.stdin.readline())
body, at = sys.stdin.read(), 0
for name, size in head["modules"]:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(body[at : at + size], name + ".py", "exec"), module.__dict__)
    at += size
module.main(head["request"])
"""
HOST_GRACE = 15
"""Extra seconds the host waits for the exec beyond the script's own alarm."""
EXEC_TRIES = 3
"""Attempts at an exec that could not start the script (e.g. no pid was free)."""
NOT_STARTED = (126, 127)
"""Exit codes of an exec whose process could not be started."""
FORK_FAILED = ("Resource temporarily unavailable", "Cannot fork")
"""What a process says when the container's pids are used up."""

ALARM_EXIT = (-14, 128 + 14)
"""Exit codes of a process ended by SIGALRM."""

PROBE = ("procfs", "web", "files", "work", "probe")
WATCHER = ("procfs", "links", "watcher")


class ProbeError(RuntimeError):
    """The probe could not run or answer: an infrastructure failure, never a finding."""


@cache
def module_source(name: str) -> str:
    return files("redline_evals.sandbox.inside").joinpath(f"{name}.py").read_text()


def script_input(modules: tuple[str, ...], request: dict[str, Any]) -> str:
    """The launcher's stdin: the header line, then the modules' sources."""
    sources = [module_source(name) for name in modules]
    head = {
        "request": request,
        "modules": [[n, len(s)] for n, s in zip(modules, sources, strict=True)],
    }
    return json.dumps(head) + "\n" + "".join(sources)


async def exec_as(
    sandbox_name: str | None,
    command: list[str],
    user: str,
    input: str | None = None,
    timeout: float = PROBE_TIMEOUT,
    name: str | None = None,
) -> ExecResult[str]:
    """Run one command in a sandbox as `user` (`name` labels it in errors), with no in-container
    `timeout` wrapper (Inspect's exec timeout forks one, which a container whose pids are used up
    refuses): the host gives up after `timeout` plus a grace. An exec whose process could not
    start (no pid was free) is tried again, `EXEC_TRIES` times in all.

    Raises:
        ProbeError: The sandbox is gone, the exec was refused or timed out.
    """
    where = sandbox_name or "default"
    name = name or command[0]
    for attempt in range(1, EXEC_TRIES + 1):
        try:
            with anyio.fail_after(timeout + HOST_GRACE):
                result = await sandbox(sandbox_name).exec(command, input=input, user=user)
        except TimeoutError as ex:
            raise ProbeError(f"{name} timed out after {timeout:.0f}s in '{where}'") from ex
        except Exception as ex:  # sandbox gone, exec refused, output limit...
            raise ProbeError(f"{name} could not run in '{where}': {ex}") from ex
        if attempt < EXEC_TRIES and (
            result.returncode in NOT_STARTED or any(f in result.stderr for f in FORK_FAILED)
        ):
            await anyio.sleep(attempt)
            continue
        return result
    raise AssertionError("unreachable")


async def run_script(
    modules: tuple[str, ...],
    request: dict[str, Any],
    sandbox_name: str | None = None,
    timeout: int = PROBE_TIMEOUT,
) -> str:
    """Run an in-sandbox script as root; return its stdout.

    Raises:
        ProbeError: The sandbox is gone, or the script could not start, timed out or failed.
    """
    where = sandbox_name or "default"
    result = await exec_as(
        sandbox_name,
        ["python3", "-I", "-c", LAUNCHER, str(timeout)],
        "root",
        input=script_input(modules, request),
        timeout=timeout,
        name=modules[-1],
    )
    if result.returncode in ALARM_EXIT:
        raise ProbeError(f"{modules[-1]} timed out after {timeout}s in '{where}'")
    if not result.success:
        raise ProbeError(
            f"{modules[-1]} exited with {result.returncode} in '{where}': "
            f"{result.stderr.strip()[-500:]}"
        )
    return result.stdout


async def run_probe(
    request: dict[str, Any], sandbox_name: str | None = None, timeout: int = PROBE_TIMEOUT
) -> dict[str, Any]:
    """Send the probe with one request to `sandbox_name` and return its JSON answer.

    Raises:
        ProbeError: The probe could not run, or answered something that is not a JSON object.
    """
    return parse_answer(await run_script(PROBE, request, sandbox_name, timeout))


async def start_watcher(sandbox_name: str | None = None) -> int:
    """Start the watcher in `sandbox_name` (once: a running watcher is kept); return its pid."""
    out = await run_script(WATCHER, {}, sandbox_name, timeout=30)
    try:
        return int(out.strip())
    except ValueError as ex:
        raise ProbeError(
            f"the watcher did not start in '{sandbox_name or 'default'}': {out!r}"
        ) from ex


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


M = TypeVar("M", bound=BaseModel)


def read_part(answer: dict[str, Any], key: str, model: type[M]) -> M:
    """One part of the probe's answer as `model`; a missing or malformed part is a
    `ProbeError`, never a finding."""
    try:
        return model.model_validate(answer_part(answer, key))
    except ValidationError as ex:
        raise ProbeError(f"probe answered a {key!r} that cannot be read: {ex}") from ex


def read_survey(answer: dict[str, Any]) -> Survey:
    return read_part(answer, "survey", Survey)


def read_look(answer: dict[str, Any]) -> Look:
    """The survey, identity answers and work tests of a look."""
    try:
        return Look.model_validate(answer)
    except ValidationError as ex:
        raise ProbeError(f"probe answered a look that cannot be read: {ex}") from ex


async def survey(sandbox_name: str | None = None) -> Survey:
    return read_survey(await run_probe({"survey": {}}, sandbox_name))


async def signal_processes(
    targets: list[ProcessRecord], signal: str = "KILL", sandbox_name: str | None = None
) -> KillAnswer:
    """Send SIG`signal` to `targets`; for KILL also to their process groups, and wait until gone."""
    request = {"kill": {"targets": [t.model_dump() for t in targets], "signal": signal}}
    return read_part(await run_probe(request, sandbox_name), "kill", KillAnswer)


class FileRecord(Protocol):
    path: str
    size: int
    sha256: str


async def find_files(
    files: Sequence[FileRecord], sandbox_name: str | None = None, roots: Sequence[str] = ("/",)
) -> FoundFiles:
    """Files under `roots` with the size of one of `files` (with their sha256: intact copies),
    and files of the same names whatever their size (for the report)."""
    request = {
        "find_files": {
            "roots": list(roots),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
            "names": sorted({f.path.rsplit("/", 1)[-1] for f in files}),
        }
    }
    return read_part(await run_probe(request, sandbox_name), "find_files", FoundFiles)
