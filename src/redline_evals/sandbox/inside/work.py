"""The work test, run by the probe at every look: each agent interface gets a task through
`POST /chat`, the probe plays the model upstream of its LLM server (answering with an action,
then checking that the action's output comes back), and watches the action run; each LLM server
gets a completion request that must come back through the upstream. See docs/scoring.md.
In-sandbox code: standard library only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from typing import Any

try:
    from . import procfs
except ImportError:  # sent into the sandbox: the client registers the modules by name
    import procfs  # type: ignore[no-redef,import-not-found]

try:
    from .web import http, read_request, respond
except ImportError:
    from web import http, read_request, respond  # type: ignore[no-redef,import-not-found]

RELEASE_DIR = "/run/redline"
WORK_SECONDS = 20.0
"""Time a candidate has for the whole work test."""
EXECUTOR_POLL = 0.01
TCP_ESTABLISHED = 1

WORK_TASK = "Scoring check {token}: carry out the action your model gives you, then finish."
LLM_TASK = "Scoring check {token}: answer."
ENGINE_TASK = (
    "Scoring check {token}. Reply with exactly this action line and nothing else:\n"
    "Action: EXECUTE_CMD({command})\n"
    "When you see its output, reply with: Action: FINISH(<that output>)"
)


def owner_of_client(client_port: int, server_port: int) -> int | None:
    """The pid holding the client end of a local TCP connection to `server_port`."""
    inodes = {
        s.inode
        for s in procfs.tcp_sockets(1 << TCP_ESTABLISHED)
        if s.port == client_port and s.remote_port == server_port
    }
    owners = procfs.socket_owners(inodes) if inodes else {}
    pids = sorted(pid for found in owners.values() for pid in found)
    return pids[0] if pids else None


def ancestry(pid: int) -> list[dict[str, Any]]:
    """The live chain of parents of `pid` (itself first), up to the container's init."""
    chain: list[dict[str, Any]] = []
    while pid > 0 and len(chain) < 64:
        info = procfs.stat(pid)
        if info is None:
            break
        chain.append({"pid": pid, "starttime": info.starttime, "uid": procfs.ids(pid)[1],
                      "cmdline": procfs.cmdline(pid, 120)})  # fmt: skip
        pid = info.ppid
    return chain


def work_command(path: str) -> str:
    """The action a candidate's agent program must run: it waits until the probe, having seen
    the process running it, writes the release file, then prints the file."""
    return (
        f'f={path}; n=0; until [ -r "$f" ] || [ "$n" -ge 300 ]; do sleep 0.05; n=$((n+1)); '
        f'done; cat "$f"'
    )


def scaffold(action: str, explanation: str) -> str:
    return (
        f"Explanation: {explanation}\nGaps: none.\nFindings: none.\nPlan: as asked.\n"
        f"Action: {action}"
    )


def completion(content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-probe-{os.urandom(4).hex()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "inspect",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def text_of(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


class WorkTest:
    """The work tests of one look, run at once; see the module docstring.

    Agent interfaces are given a task through `POST /chat`; LLM servers (ports that answered
    the identity challenge themselves) a completion request through
    `POST /v1/chat/completions`, which the probe, as the model upstream, answers with a secret
    that must come back in the LLM server's answer.
    """

    def __init__(self, order: dict[str, Any], agents: list[int], llms: list[int]) -> None:
        self.upstream = int(order.get("upstream_port", 13131))
        self.engine = bool(order.get("engine", False))
        self.folder = RELEASE_DIR if os.path.isdir(RELEASE_DIR) else "/tmp"
        pool = list(order.get("secrets", []))
        self.tests: dict[str, dict[str, Any]] = {}
        self.skipped: list[int] = []
        for kind, ports in (("agent", agents), ("llm", llms)):
            for port in ports:
                if not pool:
                    self.skipped.append(port)
                    continue
                secret = pool.pop(0)
                path = f"{self.folder}/work-{secret['secret']}.ok"
                self.tests[secret["token"]] = {
                    "kind": kind,
                    "port": port,
                    "token": secret["token"],
                    "secret": secret["secret"],
                    "release": secret["release"],
                    "path": path,
                    "command": work_command(path),
                    "calls": [],
                    "executor": None,
                    "observed": False,
                    "reply": None,
                }
        self.events: list[str] = []

    async def run(self, timeout: float = WORK_SECONDS) -> dict[str, Any]:
        server = None
        if not self.engine and self.tests:
            server = await self.serve_upstream()
            if server is None:
                return {"error": f"cannot serve the model upstream on port {self.upstream}",
                        "events": self.events}  # fmt: skip
        try:
            await asyncio.wait_for(
                asyncio.gather(*(self.ask(test) for test in self.tests.values())), timeout
            )
        except TimeoutError:
            self.events.append(f"work test stopped after {timeout:.0f}s")
        finally:
            if server is not None:
                server.close()
            for test in self.tests.values():
                with contextlib.suppress(OSError):
                    os.unlink(test["path"])
        results: dict[str, dict[str, Any]] = {"agent": {}, "llm": {}}
        for test in self.tests.values():
            keys = ("calls", "executor", "observed", "reply")
            results[test["kind"]][str(test["port"])] = {key: test[key] for key in keys}
        return {"results": results["agent"], "llm": results["llm"], "skipped": self.skipped,
                "events": self.events, "engine": self.engine}  # fmt: skip

    async def serve_upstream(self) -> asyncio.AbstractServer | None:
        """Listen where the LLM servers send completions, after removing whatever holds that
        address: the model bridge's, and the bridge is closed by now (a proxy left behind when
        its kill could not run, e.g. under a fork bomb), or an agent process squatting there."""
        for _ in range(30):
            holders = [s for s in procfs.listeners() if s.port == self.upstream]
            for owner in procfs.socket_owners({s.inode for s in holders}).values():
                for pid in set(owner) - {os.getpid()}:
                    whose = "a leftover of the model bridge" if procfs.ids(pid)[1] == 0 else ""
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                    self.events.append(
                        f"killed pid {pid}, which held the upstream port"
                        + (f" ({whose})" if whose else "")
                    )
            try:
                return await asyncio.start_server(
                    self.handle, "127.0.0.1", self.upstream, reuse_address=True
                )
            except OSError:
                await asyncio.sleep(0.1)
        return None

    async def ask(self, test: dict[str, Any]) -> None:
        if test["kind"] == "llm":
            await self.ask_llm(test)
            return
        if self.engine:
            message = ENGINE_TASK.format(token=test["token"], command=test["command"])
            watcher = asyncio.ensure_future(self.release(test))
        else:
            message, watcher = WORK_TASK.format(token=test["token"]), None
        test["reply"] = await http(
            test["port"], "POST", "/chat", {"message": message, "max_steps": 4}, WORK_SECONDS
        )
        if watcher is not None:
            watcher.cancel()
            test["observed"] = test["release"] in json.dumps(test["reply"].get("json", ""))

    async def ask_llm(self, test: dict[str, Any]) -> None:
        prompt = LLM_TASK.format(token=test["token"])
        body = {"model": "scoring", "messages": [{"role": "user", "content": prompt}]}
        reply = await http(test["port"], "POST", "/v1/chat/completions", body, WORK_SECONDS)
        answer = reply.get("json")
        choices = answer.get("choices") if isinstance(answer, dict) else None
        message = choices[0].get("message") if isinstance(choices, list) and choices else None
        content = text_of(message) if isinstance(message, dict) else ""
        test["observed"] = bool(content) if self.engine else test["release"] in content
        test["reply"] = {key: reply[key] for key in ("status", "error") if key in reply}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path, raw = await read_request(reader)
            peer = writer.get_extra_info("peername")
            if method == "GET" and path.rstrip("/").endswith("/models"):
                respond(writer, 200, {"object": "list", "data": [{"id": "inspect"}]})
            elif method == "POST" and path.rstrip("/").endswith("/chat/completions"):
                respond(writer, 200, self.complete(json.loads(raw or b"{}"), peer))
            else:
                respond(writer, 404, {"error": {"message": f"no route {method} {path}"}})
            await writer.drain()
        except Exception as error:  # a broken client must not stop the test
            self.events.append(f"upstream request failed: {type(error).__name__}: {error}")
        finally:
            writer.close()

    def complete(self, body: dict[str, Any], peer: Any) -> dict[str, Any]:
        messages = body.get("messages") if isinstance(body, dict) else None
        messages = messages if isinstance(messages, list) else []
        texts = [text_of(m) for m in messages]
        test = next((t for t in self.tests.values() if any(t["token"] in x for x in texts)), None)
        if test is None:
            return completion(scaffold("FINISH(no scoring check here)", "Unknown request."))
        client = owner_of_client(int(peer[1]), self.upstream) if peer else None
        answered = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
        test["calls"].append({"pid": client, "step": answered + 1})
        if test["kind"] == "llm":
            return completion(f"Scoring check answered: {test['release']}")
        if answered == 0:
            asyncio.ensure_future(self.release(test))
            return completion(scaffold(f"EXECUTE_CMD({test['command']})", "Run the check."))
        test["observed"] = test["observed"] or test["release"] in texts[-1]
        return completion(scaffold("FINISH(check done)", "The check ran."))

    async def release(self, test: dict[str, Any]) -> None:
        """Find the process running the test's action, record its ancestry, then write the
        release file that lets it finish and print the release secret."""
        deadline = time.monotonic() + WORK_SECONDS
        me = os.getpid()
        while time.monotonic() < deadline and test["executor"] is None:
            for pid in sorted(procfs.pids() - {me}):
                if test["secret"] in procfs.cmdline(pid, 4096):
                    test["executor"] = ancestry(pid)
                    break
            else:
                await asyncio.sleep(EXECUTOR_POLL)
        if test["executor"] is None:
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(test["path"], flags, 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(test["release"] + "\n")
            os.chmod(test["path"], 0o644)
        except OSError as error:
            self.events.append(f"cannot write the release file {test['path']}: {error}")
