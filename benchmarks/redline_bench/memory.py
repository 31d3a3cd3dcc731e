"""Peak memory per sandbox, read from the kernel's own per-container peak counter.

A watcher follows Docker's `start` events for the containers of our compose projects, finds
each container's memory cgroup from `/proc/<pid>/cgroup` on the host, and re-reads the cgroup's
peak every `interval` seconds until the cgroup disappears (the container was removed). The peak
is monotonic, so the last value read, at most `interval` before removal, is the container's
peak over its life except for growth in that last moment (compose down frees, not allocates).

- cgroup v2: `memory.peak`; cgroup v1: `memory.max_usage_in_bytes`. Both count what the
  kernel charges to the container: process memory plus the page cache and kernel memory it
  caused (e.g. the weights file read by the LLM server).
- Process memory alone (anonymous memory: `anon` in v2's `memory.stat`, `total_rss` in v1's) has
  no kernel peak; the watcher samples it at each reading and keeps the largest value, which can
  miss a spike shorter than `interval`.
- A sandbox is a compose project (one per sample); its peak is the sum of its containers'
  peaks, an upper bound when a project has several containers (remote_replication has 3).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROJECT_LABEL = "com.docker.compose.project"
PEAK_FILES = {"v2": "memory.peak", "v1": "memory.max_usage_in_bytes"}
ANON_KEYS = {PEAK_FILES["v2"]: "anon", PEAK_FILES["v1"]: "total_rss"}
"""The key of process (anonymous) memory in `memory.stat` beside each peak file."""


def cgroup_peak_file(pid: int, root: Path = CGROUP_ROOT, proc: Path = Path("/proc")) -> Path | None:
    """The memory-peak file of the cgroup that process `pid` belongs to, if the kernel has one."""
    for line in (proc / str(pid) / "cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        candidates = []
        if "memory" in controllers.split(","):
            candidates.append(root / "memory" / path.lstrip("/") / PEAK_FILES["v1"])
        if controllers == "":
            candidates.append(root / path.lstrip("/") / PEAK_FILES["v2"])
            candidates.append(root / "unified" / path.lstrip("/") / PEAK_FILES["v2"])
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    return None


@dataclass
class Watched:
    project: str
    container: str
    file: Path | None
    peak: int = 0
    """The kernel's peak, as last read."""
    anon: int = 0
    """The largest process (anonymous) memory sampled."""
    gone: bool = False


class PeakWatcher:
    """Peak memory of the containers of compose projects named `prefix...`, while running."""

    def __init__(self, client: docker.DockerClient, prefix: str, interval: float = 0.2):
        self.client, self.prefix, self.interval = client, prefix, interval
        self.watched: dict[str, Watched] = {}
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._events = client.events(decode=True, filters={"type": "container", "event": "start"})
        self._threads = [
            threading.Thread(target=self._follow, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]

    def __enter__(self) -> PeakWatcher:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._events.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._read_all()

    def peaks(self, prefix: str) -> dict[str, tuple[int, int]]:
        """Per compose project whose name starts with `prefix`: (kernel peak, sampled peak of
        process memory) in bytes, each summed over the project's containers."""
        totals: dict[str, tuple[int, int]] = {}
        with self._lock:
            for w in self.watched.values():
                if w.project.startswith(prefix) and w.file is not None:
                    peak, anon = totals.get(w.project, (0, 0))
                    totals[w.project] = (peak + w.peak, anon + w.anon)
        return totals

    def _follow(self) -> None:
        try:
            for event in self._events:
                attributes = event.get("Actor", {}).get("Attributes", {})
                project = str(attributes.get(PROJECT_LABEL, ""))
                if project.startswith(self.prefix):
                    self._add(event["Actor"]["ID"], project, str(attributes.get("name", "")))
        except Exception as ex:  # the stream closed under us at exit, or the daemon went away
            if not self._stop.is_set():
                self.problems.append(f"docker events stream ended: {ex}")

    def _add(self, container_id: str, project: str, name: str) -> None:
        file = None
        try:
            pid = self.client.api.inspect_container(container_id)["State"]["Pid"]
            file = cgroup_peak_file(int(pid)) if pid else None
        except (docker.errors.APIError, OSError):
            pass  # gone already: too short-lived to measure
        if file is None:
            self.problems.append(f"no memory peak for {name}: cgroup not found")
        with self._lock:
            self.watched[container_id] = Watched(project, name, file)
        self._read(self.watched[container_id])

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._read_all()

    def _read_all(self) -> None:
        with self._lock:
            live = [w for w in self.watched.values() if w.file is not None and not w.gone]
        for w in live:
            self._read(w)

    def _read(self, w: Watched) -> None:
        if w.file is None:
            return
        try:
            value = int(w.file.read_text())
            stat = w.file.with_name("memory.stat").read_text().split()
        except (OSError, ValueError):  # removed: its last reading stands
            w.gone = True
            return
        w.peak = max(w.peak, value)
        key = ANON_KEYS[w.file.name]
        if key in stat:
            w.anon = max(w.anon, int(stat[stat.index(key) + 1]))
