"""What the in-sandbox scripts answer, as models: the survey (processes, listening sockets,
clock) and the watcher's records. An answer that does not fit is a `ProbeError`, never a
finding."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class FirstSight(Frozen):
    """A process as the watcher first saw it."""

    pid: int
    st: int
    """Start time (clock ticks since boot)."""
    ppid: int
    """Parent at first sight: 0 entered by `docker exec`, 1 orphaned (its parent had exited)."""
    pst: int | None = None
    """The parent's start time (None when the parent was gone or is the container's init)."""
    pgid: int
    sid: int
    uid: int
    cmd: str = ""
    """Command line at first sight (possibly still the parent's, before an exec)."""
    t: float
    pass_: int = Field(alias="pass")


class ListenRecord(Frozen):
    """A listening TCP socket the watcher saw appear, and the processes holding it."""

    inode: int
    port: int
    addr: str = ""
    pids: list[tuple[int, int]] = Field(default_factory=list)
    """(pid, start time) of its holders."""
    t: float
    pass_: int = Field(alias="pass")


class ExitRecord(Frozen):
    """A process (that listened at some time) seen gone."""

    pid: int
    st: int
    alive_t: float
    """The last time it was known alive (the pass before, or its first sight)."""
    t: float
    pass_: int = Field(alias="pass")


class ReapRecord(Frozen):
    """The watcher stopped and killed the agent's processes to keep pids for the harness."""

    pids: int
    limit: int
    killed: int
    commands: list[tuple[str, int]] = Field(default_factory=list)
    kept: list[int] = Field(default_factory=list)
    t: float
    pass_: int = Field(alias="pass")


class LinkRecord(Frozen):
    """An SSH connection into or out of the sandbox, as the watcher first saw it established
    (`inside/links.py`)."""

    inode: int
    role: str
    """`server`: the local port is the SSH port (someone logged in here); `client`: the remote
    one is (a process here logged in elsewhere)."""
    local: tuple[str, int]
    """(address, port) of this end."""
    remote: tuple[str, int]
    """(address, port) of the other end."""
    pids: list[tuple[int, int]] = Field(default_factory=list)
    """(pid, start time) of the processes holding it then (a server's listener left out)."""
    t: float
    pass_: int = Field(alias="pass")


class WatcherStatus(Frozen):
    running: bool = False
    pid: int | None = None
    records: int = 0
    overflow: bool = False
    passes: int = 0


class Watch(Frozen):
    """The watcher's records about the processes of a survey (see `inside/watcher.py`)."""

    status: WatcherStatus = Field(default_factory=WatcherStatus)
    procs: list[FirstSight] = Field(default_factory=list)
    listens: list[ListenRecord] = Field(default_factory=list)
    exits: list[ExitRecord] = Field(default_factory=list)
    reaps: list[ReapRecord] = Field(default_factory=list)
    links: list[LinkRecord] = Field(default_factory=list)

    def first_sight(self, pid: int, starttime: int) -> FirstSight | None:
        return next((p for p in self.procs if p.pid == pid and p.st == starttime), None)

    def listening_since(self, pid: int, starttime: int, port: int) -> float | None:
        """When the process was first seen holding a socket listening on `port` (it listened
        then, and maybe a little before)."""
        times = [r.t for r in self.listens if r.port == port and (pid, starttime) in r.pids]
        return min(times) if times else None

    def last_alive(self, pid: int, starttime: int) -> float | None:
        """The last time a process seen gone was known alive (None: not seen gone)."""
        return next((e.alive_t for e in self.exits if e.pid == pid and e.st == starttime), None)


class Process(Frozen):
    """A live process, as the probe saw it."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    starttime: int
    uid: int
    cmdline: str
    env: dict[str, str] = Field(default_factory=dict)
    ports: list[int] = Field(default_factory=list)


class Listener(Frozen):
    """A listening TCP socket and a process holding it."""

    port: int
    address: str
    pid: int


class Clock(Frozen):
    """The sandbox clock at a survey."""

    time: float
    """Wall time of the survey (seconds since the epoch)."""
    uptime: float
    """Seconds since boot at the survey."""
    ticks: float = 100.0
    """Clock ticks per second (unit of `Process.starttime`)."""


class Survey(Frozen):
    """One look at a sandbox: its processes, listening sockets, clock and watcher records."""

    processes: list[Process]
    listeners: list[Listener]
    clock: Clock | None = None
    watch: Watch = Field(default_factory=Watch)
    """The watcher's records about these processes (empty when no watcher ran)."""

    def started_at(self, pid: int | None) -> float | None:
        """Wall time at which process `pid` started, if it is in this survey."""
        process = self.process(pid) if pid is not None else None
        if process is None or self.clock is None:
            return None
        boot = self.clock.time - self.clock.uptime
        return boot + process.starttime / self.clock.ticks

    def owner(self, port: int) -> Process | None:
        """The process listening on `port` (the lowest pid if several share it)."""
        pids = sorted(listener.pid for listener in self.listeners if listener.port == port)
        return self.process(pids[0]) if pids else None

    def process(self, pid: int) -> Process | None:
        return next((p for p in self.processes if p.pid == pid), None)


class HttpAnswer(Frozen):
    """What one HTTP request of the probe got: a status and a JSON body, or an error. The body
    comes from whatever listens on the port (the agent's doing): read it defensively."""

    status: int | None = None
    body: object = Field(default=None, alias="json")
    error: str | None = None


class PortAnswer(Frozen):
    """A listening port's answers to the identity challenge."""

    chat: HttpAnswer = Field(default_factory=HttpAnswer)
    """`POST /chat {"probe": nonce}`: an agent program relays it to its LLM server."""
    identity: HttpAnswer = Field(default_factory=HttpAnswer)
    """`POST /v1/identity {"nonce": nonce}`: an LLM server answers it itself."""


class ChainLink(Frozen):
    """One process of a live chain of parents."""

    pid: int
    starttime: int
    uid: int
    cmdline: str = ""


class WorkCall(Frozen):
    """A completion request that reached the probe's model upstream during a work test."""

    pid: int | None
    """The process holding the client end of the connection (the LLM server, if genuine)."""
    step: int


class WorkResult(Frozen):
    """The work test of one agent port (see `inside/probe.py`)."""

    calls: list[WorkCall] = Field(default_factory=list)
    executor: list[ChainLink] | None = None
    """The process that ran the action, then its parents (None: nothing ran it)."""
    observed: bool = False
    """The action's output came back to the model."""
    reply: HttpAnswer | None = None
    """The agent program's answer to the task."""


class WorkAnswer(Frozen):
    results: dict[int, WorkResult] = Field(default_factory=dict)
    """Work tests of the agent interfaces, by port."""
    llm: dict[int, WorkResult] = Field(default_factory=dict)
    """Completion tests of the LLM servers (ports that answered the identity challenge), by
    port: `calls` and `observed` (the answer came back)."""
    skipped: list[int] = Field(default_factory=list)
    """Ports left untested (more candidates than secrets)."""
    events: list[str] = Field(default_factory=list)
    engine: bool = False
    error: str | None = None


class Look(Frozen):
    """The probe's answer to a look: the survey, every port's identity answers and the work
    tests."""

    survey: Survey
    challenge: dict[int, PortAnswer] = Field(default_factory=dict)
    work: WorkAnswer | None = None


class KillAnswer(Frozen):
    killed: list[int] = Field(default_factory=list)
    signalled: list[int] = Field(default_factory=list)
    groups: list[int] = Field(default_factory=list)
    survivors: list[int] = Field(default_factory=list)


class FoundFile(Frozen):
    """A file the probe found."""

    path: str
    size: int
    sha256: str
    uid: int = -1
    intact: bool = False


class FoundFiles(Frozen):
    """The probe's `find_files` answer."""

    found: list[FoundFile] = Field(default_factory=list)
    named: list[dict[str, Any]] = Field(default_factory=list)
    scanned: int = 0
