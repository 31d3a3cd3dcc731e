"""Reading processes and sockets from /proc and the kernel, for the scripts that run inside a
sandbox as root (the probe and the watcher). Standard library only; nothing here starts a
process or a thread, so it works when the agent has used up the container's pids limit.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import NamedTuple

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
TCP_ESTABLISHED = 1
TCP_LISTEN = 10
TCP_STATES_ALL = 0xFFF


class Stat(NamedTuple):
    state: str
    ppid: int
    pgid: int
    sid: int
    starttime: int
    """Clock ticks since boot (field 22 of /proc/<pid>/stat)."""


class Socket(NamedTuple):
    address: str
    port: int
    remote_port: int
    inode: int
    uid: int
    remote_address: str = ""
    state: int = 0
    """TCP state (1 established, 10 listening: the kernel's numbering)."""


def read(path: str, mode: str = "r") -> str | bytes | None:
    try:
        with open(path, mode) as f:
            data: str | bytes = f.read()
            return data
    except (OSError, ValueError):
        return None


def read_text(path: str) -> str:
    data = read(path)
    return data if isinstance(data, str) else ""


def stat(pid: int) -> Stat | None:
    """The process's state, parent, group, session and start time; None if it is gone."""
    raw = read_text(f"/proc/{pid}/stat")
    try:
        # the command name is in parentheses and may contain spaces or parentheses
        fields = raw[raw.rindex(")") + 2 :].split()
        return Stat(fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]))
    except (ValueError, IndexError):
        return None


def alive(pid: int, starttime: int) -> bool:
    """The process `pid` that started at `starttime` still runs (pid reuse never matches)."""
    info = stat(pid)
    return info is not None and info.state not in ("Z", "X") and info.starttime == starttime


def ids(pid: int) -> tuple[int, int]:
    """(thread group id, real uid) of a task; (-1, -1) if it is gone."""
    tgid = uid = -1
    for line in read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith("Tgid:"):
            tgid = int(line.split()[1])
        elif line.startswith("Uid:"):
            uid = int(line.split()[1])
    return tgid, uid


def cmdline(pid: int, limit: int = 300) -> str:
    raw = read(f"/proc/{pid}/cmdline", "rb")
    if not isinstance(raw, bytes):
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:limit]


def environ(pid: int, keys: tuple[str, ...]) -> dict[str, str]:
    """The variables named in `keys` of the environment the process started with."""
    raw = read(f"/proc/{pid}/environ", "rb")
    env: dict[str, str] = {}
    if not isinstance(raw, bytes):
        return env
    for item in raw.split(b"\0"):
        key, _, value = item.partition(b"=")
        name = key.decode("utf-8", "replace")
        if name in keys:
            env[name] = value.decode("utf-8", "replace")
    return env


def pids() -> set[int]:
    try:
        return {int(name) for name in os.listdir("/proc") if name.isdigit()}
    except OSError:
        return set()


def last_pid() -> int | None:
    """The last pid allocated in this pid namespace (5th field of /proc/loadavg)."""
    try:
        return int(read_text("/proc/loadavg").split()[4])
    except (ValueError, IndexError):
        return None


def socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def socket_owners(inodes: set[int], candidates: set[int] | None = None) -> dict[int, list[int]]:
    """inode -> pids that hold the socket open (among `candidates`, default every process)."""
    owners: dict[int, list[int]] = {}
    for pid in sorted(pids() if candidates is None else candidates):
        for inode in socket_inodes(pid) & inodes:
            owners.setdefault(inode, []).append(pid)
    return owners


def tcp_sockets(states: int) -> list[Socket]:
    """TCP sockets (IPv4 and IPv6) in the states of the bit mask `states`, from the kernel's
    socket diagnostics (cheap: a listening-only request never walks the established table);
    /proc/net/tcp when netlink is not available (e.g. some sandbox runtimes)."""
    try:
        return _diag(socket.AF_INET, states) + _diag(socket.AF_INET6, states)
    except OSError:
        return _proc_net_tcp(states)


def listeners() -> list[Socket]:
    return tcp_sockets(1 << TCP_LISTEN)


def _diag(family: int, states: int) -> list[Socket]:
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, states) + bytes(48)
    header = struct.pack("=IHHII", 16 + len(request), SOCK_DIAG_BY_FAMILY, 0x301, 1, 0)
    found: list[Socket] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as s:
        s.settimeout(5)
        s.sendto(header + request, (0, 0))
        while True:
            data = s.recv(1 << 16)
            if not data:
                return found
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR or length < 16:
                    raise OSError("socket diagnostics refused")
                body = data[offset + 16 : offset + length]
                if len(body) >= 72:
                    size = 4 if body[0] == socket.AF_INET else 16
                    sport, dport = struct.unpack_from(">HH", body, 4)
                    uid, inode = struct.unpack_from("=II", body, 64)
                    address = plain(socket.inet_ntop(body[0], body[8 : 8 + size]))
                    remote = plain(socket.inet_ntop(body[0], body[24 : 24 + size]))
                    found.append(Socket(address, sport, dport, inode, uid, remote, body[1]))
                offset += (length + 3) & ~3


def _proc_net_tcp(states: int) -> list[Socket]:
    found: list[Socket] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in read_text(table).splitlines()[1:]:
            cols = line.split()
            state = int(cols[3], 16) if len(cols) >= 10 else -1
            if state < 0 or not states & (1 << state):
                continue
            address, port = cols[1].rsplit(":", 1)
            remote, remote_port = cols[2].rsplit(":", 1)
            found.append(
                Socket(
                    hex_address(address),
                    int(port, 16),
                    int(remote_port, 16),
                    int(cols[9]),
                    int(cols[7]),
                    hex_address(remote),
                    state,
                )  # fmt: skip
            )
    return found


def hex_address(text: str) -> str:
    """An address of /proc/net/tcp (hex, in host byte order per 32-bit word) as text."""
    try:
        raw = bytes.fromhex(text)
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
        family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
        return plain(socket.inet_ntop(family, words))
    except (ValueError, OSError):
        return text


def plain(address: str) -> str:
    """An IPv4 address mapped into IPv6 (`::ffff:10.0.0.2`) as the IPv4 address."""
    return address[7:] if address.startswith("::ffff:") and "." in address else address


def pids_pressure() -> tuple[int, int] | None:
    """(current, max) of the container's pids cgroup (v2 or v1); None without a limit."""
    for folder in ("/sys/fs/cgroup", "/sys/fs/cgroup/pids"):
        current, limit = read_text(f"{folder}/pids.current"), read_text(f"{folder}/pids.max")
        if current and limit and limit.strip() != "max":
            try:
                return int(current), int(limit)
            except ValueError:
                return None
    return None
