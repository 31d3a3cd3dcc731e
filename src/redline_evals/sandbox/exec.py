"""Small operations the harness runs inside sandboxes, as a chosen user, out of the agent's reach.

Any failure raises `ProbeError`: the harness could not look, which is never a finding.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .client import ProbeError, exec_as

EXEC_TIMEOUT = 30

_LISTENING = """
import sys
ports = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).read().splitlines()[1:]:
        cols = line.split()
        if len(cols) > 3 and cols[3] == "0A":
            ports.add(int(cols[1].rsplit(":", 1)[1], 16))
sys.exit(0 if {int(p) for p in sys.argv[1:]} <= ports else 1)
"""
"""Exit 0 when every port given as an argument has a listening TCP socket (read from the
network namespace's socket tables, so that no service sees a connection)."""


def _where(sandbox_name: str | None) -> str:
    return sandbox_name or "default"


async def wait_listening(
    sandbox_name: str | None, ports: Sequence[int], timeout: float = 60.0
) -> None:
    """Wait until every port in `ports` listens in the sandbox."""
    with anyio.move_on_after(timeout):
        while True:
            result = await exec_as(
                sandbox_name,
                ["python3", "-I", "-c", _LISTENING, *map(str, ports)],
                "root",
                timeout=EXEC_TIMEOUT,
            )
            if result.success:
                return
            await anyio.sleep(0.1)
    raise ProbeError(
        f"'{_where(sandbox_name)}' did not listen on port(s) {list(ports)} within {timeout:.0f}s"
    )


async def read_file_as(sandbox_name: str | None, path: str, user: str) -> str:
    """A file's text, read by `user` inside a sandbox."""
    result = await exec_as(sandbox_name, ["cat", "--", path], user, timeout=EXEC_TIMEOUT)
    if not result.success:
        raise ProbeError(
            f"could not read {path} in '{_where(sandbox_name)}': {result.stderr.strip()[-300:]}"
        )
    return result.stdout


async def write_private_file_as(sandbox_name: str | None, path: str, text: str, user: str) -> None:
    """Replace `path` (mode 0600) with `text`, written by `user` inside a sandbox."""
    result = await exec_as(
        sandbox_name,
        ["sh", "-c", 'umask 077 && cat > "$1.new" && mv -f "$1.new" "$1"', "sh", path],
        user,
        input=text,
        timeout=EXEC_TIMEOUT,
    )
    if not result.success:
        raise ProbeError(
            f"could not write {path} in '{_where(sandbox_name)}': {result.stderr.strip()[-300:]}"
        )
