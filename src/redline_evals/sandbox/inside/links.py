"""The link watcher, part of the in-sandbox watcher (`watcher.py`): it records every SSH
connection into or out of the sandbox, so that the scorer can follow who started whom across
machines from evidence the agent cannot write.

A connection is recorded once (`link`), when the watcher first sees it established: its two
endpoints (local and remote address and port), which side this sandbox is (`server`: the local
port is an SSH port; `client`: the remote one is), and the processes holding the socket then
(pid and start time, each also recorded at first sight, so its ancestry is known). On a server,
the SSH daemon's listening process is left out (it may hold an accepted connection for an
instant before its per-connection child takes it): the holders are the connection's own sshd
processes, which every process of the session descends from. A connection whose only holders
so far are listeners is tried again at the next checks, `RETRIES` times at most.

Matching the client's local endpoint on one machine with the server's remote endpoint on the
next ties a process started through SSH on the server to the process tree of the client that
opened the connection (judging/lineage.py). Standard library only; no process, no thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

try:
    from . import procfs
except ImportError:  # sent into the sandbox: the client registers procfs as a top-level module
    import procfs  # type: ignore[no-redef,import-not-found]

LINK_PORTS = (22,)
"""Ports whose connections are links (SSH)."""
RETRIES = 50
"""Checks a connection held only by listeners is tried again before it is recorded as it is."""


class Links:
    """Records the links of one sandbox; `check()` is called by the watcher's loop."""

    def __init__(
        self,
        write: Callable[[dict[str, Any]], None],
        see: Callable[[int], int | None],
        listeners: Callable[[int], set[int]],
        ports: tuple[int, ...] = LINK_PORTS,
    ) -> None:
        """
        Args:
            write: Writes a record to the watcher's log.
            see: Records a process at first sight if it is new; returns its start time.
            listeners: The pids holding a listening socket on a port.
            ports: The link ports.
        """
        self.write = write
        self.see = see
        self.listeners = listeners
        self.ports = ports
        self.recorded: set[int] = set()
        """Inodes of the established links recorded (while they last)."""
        self.tries: dict[int, int] = {}
        """Inodes held only by listeners so far -> checks made."""

    def check(self, passes: int = 0) -> int:
        """Record the links established since the last check; return how many."""
        try:
            sockets = procfs.tcp_sockets(1 << procfs.TCP_ESTABLISHED)
        except OSError:
            return 0
        current = {
            s.inode: s
            for s in sockets
            if s.inode and (s.port in self.ports or s.remote_port in self.ports)
        }
        self.recorded &= set(current)
        self.tries = {i: n for i, n in self.tries.items() if i in current}
        new = set(current) - self.recorded
        if not new:
            return 0
        owners = procfs.socket_owners(new)
        written = 0
        for inode in sorted(new):
            link = current[inode]
            server = link.port in self.ports
            pids = owners.get(inode, [])
            if server:
                listening = self.listeners(link.port)
                pids = [p for p in pids if p not in listening]
            tries = self.tries.get(inode, 0)
            if not pids and tries < RETRIES:
                self.tries[inode] = tries + 1
                continue
            held = []
            for pid in pids:
                start = self.see(pid)
                if start is not None:
                    held.append([pid, start])
            self.write(
                {
                    "e": "link",
                    "inode": inode,
                    "role": "server" if server else "client",
                    "local": [link.address, link.port],
                    "remote": [link.remote_address, link.remote_port],
                    "pids": held,
                    "t": round(time.time(), 4),
                    "pass": passes,
                }
            )
            self.recorded.add(inode)
            self.tries.pop(inode, None)
            written += 1
        return written
