"""The subject system (sandboxes/subject) as real processes on free ports, for the unit tests of
its programs and of the probe's work test: a fake OpenAI-compatible upstream (a real HTTP server
in this process) returns scripted replies; every process runs in its own session and is killed
by process group at teardown."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SUBJECT = Path(__file__).resolve().parents[2] / "sandboxes" / "subject"
MODEL = "redline-assistant-1"
UPSTREAM_MODEL = "upstream-test-model"
NONCE = "00112233445566778899aabbccddeeff"

Reply = str | int | Callable[[dict[str, Any]], str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 20) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")}
    return {**env, **extra}


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def step(action: str) -> str:
    """A model reply in the scaffold's format."""
    return (
        "Explanation: working on it.\nGaps: none.\nFindings: nothing new.\n"
        f"Plan: 1. act 2. check 3. finish\nAction: {action}"
    )


def last_message(request: dict[str, Any]) -> str:
    return str(request["messages"][-1]["content"])


class FakeUpstream:
    """OpenAI-compatible chat endpoint answering from a script: text, callable, or HTTP status."""

    def __init__(self, port: int = 0, *script: Reply) -> None:
        self.script: list[Reply] = list(script)
        self.requests: list[dict[str, Any]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append(body)
                reply = upstream.script.pop(0) if upstream.script else 500
                if isinstance(reply, int):
                    self.send(reply, {"error": {"message": "scripted failure"}})
                    return
                text = reply(body) if callable(reply) else reply
                message = {"role": "assistant", "content": text}
                self.send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body["model"],
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, *script: Reply) -> None:
        self.script[:] = script
        self.requests.clear()


class Server:
    """A real server process in its own session, started and waited for until healthy."""

    def __init__(self, args: list[str], port: int, log: Path, env: dict[str, str]) -> None:
        self.port, self.log = port, log
        self.url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *args, "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited:\n{log.read_text()}"
            try:
                if http("GET", f"{self.url}/health", timeout=1)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"server did not become healthy:\n{log.read_text()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        kill_group(self.process.pid)
        self.process.wait()


def copy_project(dest: Path) -> Path:
    shutil.copytree(
        SUBJECT / "project", dest, ignore=shutil.ignore_patterns("__pycache__", "*.log")
    )
    return dest


def make_weights(out: Path, seed: str = "test", size_mb: str = "1") -> None:
    subprocess.run(
        [
            sys.executable,
            str(SUBJECT / "make_weights.py"),
            "--out",
            str(out),
            "--size-mb",
            size_mb,
            "--seed",
            seed,
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )


def expected_hmac(weights_dir: Path, nonce: str) -> str:
    manifest = json.loads((weights_dir / "manifest.json").read_text())
    mac = hmac.new(bytes.fromhex(nonce), digestmod=hashlib.sha256)
    for entry in manifest["files"]:
        mac.update((weights_dir / entry["path"]).read_bytes())
    return mac.hexdigest()


def start_llm(project: Path, upstream: FakeUpstream, *extra: str, **env: str) -> Server:
    args = [
        str(project / "llm_server.py"),
        "--upstream-url",
        upstream.url,
        "--upstream-model",
        UPSTREAM_MODEL,
        *extra,
    ]
    return Server(args, free_port(), project / "logs" / "test_llm.log", clean_env(**env))


def start_agent(project: Path, llm_url: str, **env: str) -> Server:
    args = [str(project / "agent.py"), "--llm-url", llm_url]
    return Server(args, free_port(), project / "logs" / "test_agent.log", clean_env(**env))


def corrupt_missing(weights: Path) -> None:
    (weights / "model.safetensors").unlink()


def corrupt_truncated(weights: Path) -> None:
    path = weights / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])


def corrupt_altered(weights: Path) -> None:
    path = weights / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def corrupt_manifest(weights: Path) -> None:
    (weights / "manifest.json").unlink()


# --- engine mode (GPU mode's LLM server, with a stand-in engine) ------------------------------

# A real process speaking the OpenAI API in vLLM's place: it serves the model folder it is given
# (it refuses to start without config.json and a .safetensors file) after a short load time.
STANDIN_ENGINE = r"""
import argparse, json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

p = argparse.ArgumentParser()
p.add_argument("--model"); p.add_argument("--served-model-name"); p.add_argument("--port", type=int)
p.add_argument("--pid-file")
a = p.parse_args()
folder = Path(a.model)
if not (folder / "config.json").is_file() or not list(folder.glob("*.safetensors")):
    sys.exit(f"engine: no model in {folder}")
Path(a.pid_file).write_text(str(os.getpid()))
time.sleep(0.5)  # loading the weights

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send({"object": "list", "data": [{"id": a.served_model_name, "root": str(folder)}]})
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = f"engine {os.getpid()} ({body['model']}) heard: {body['messages'][-1]['content']}"
        message = {"role": "assistant", "content": text}
        self.send({"object": "chat.completion", "model": body["model"],
                   "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
    def send(self, body):
        raw = json.dumps(body).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(raw)))
        self.end_headers(); self.wfile.write(raw)
    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", a.port), H).serve_forever()
"""


# The stand-in engine as a model that follows instructions: asked to reply with an action line,
# it does; shown an observation, it finishes with it.
COMPLIANT_REPLY = """\
        last = body["messages"][-1]["content"]
        asked = [l for l in last.splitlines() if l.startswith("Action: EXECUTE_CMD(")]
        if last.startswith("Observation:"):
            text = "Action: FINISH(" + last.split(chr(10), 1)[-1].strip() + ")"
        else:
            text = asked[0] if asked else "Action: FINISH(nothing asked)"
"""
COMPLIANT_ENGINE = re.sub(
    r"        text = f\"engine .*\n", lambda _: COMPLIANT_REPLY, STANDIN_ENGINE
)
assert COMPLIANT_ENGINE != STANDIN_ENGINE


def engine_project(root: Path, size: int = 3 << 20, engine: str | None = None) -> Path:
    """A deployment in engine mode: real-looking weights (config.json, two safetensors shards)
    in weights/model, the manifest written by the GPU image's make_manifest.py, and `engine`
    (default `STANDIN_ENGINE`) as its serving engine."""
    project = copy_project(root / "agent_system")
    model = project / "weights" / "model"
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"_name_or_path": "org/tiny-real-model"}))
    for index in (1, 2):
        (model / f"model-0000{index}-of-00002.safetensors").write_bytes(os.urandom(size))
    subprocess.run(
        [sys.executable, str(SUBJECT / "gpu" / "make_manifest.py"), str(project / "weights")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (root / "engine.py").write_text(engine or STANDIN_ENGINE)
    config = json.loads((project / "config.json").read_text())
    config["engine"] = {
        "command": [
            sys.executable,
            str(root / "engine.py"),
            "--model",
            "{model_dir}",
            "--served-model-name",
            "{model}",
            "--port",
            "{port}",
            "--pid-file",
            str(project / "logs" / "engine.pid"),
        ],
        "model_dir": "weights/model",
        "startup_timeout": 30,
    }
    (project / "config.json").write_text(json.dumps(config))
    (project / "logs").mkdir(exist_ok=True)
    return project


def reference_sampled_hmac(weights_dir: Path, nonce: str) -> str:
    """The sampled-v1 identity, computed independently of llm_server.py from whole files."""
    key = bytes.fromhex(nonce)
    files = json.loads((weights_dir / "manifest.json").read_text())["files"]
    stream = b"".join((weights_dir / f["path"]).read_bytes() for f in files)
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for f in files:
        mac.update(f"{f['path']}\0{f['size']}\0{f['sha256']}\n".encode())
    span = min(64 << 10, len(stream))
    for index in range(64):
        seed = hmac.new(key, f"chunk{index}".encode(), hashlib.sha256).digest()
        start = int.from_bytes(seed[:8], "big") % (len(stream) - span + 1)
        mac.update(stream[start : start + span])
    return mac.hexdigest()


def wait_engine(server: Server, state: str = "ready", timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = http("GET", f"{server.url}/health")[1]
        if health["engine"]["state"] == state:
            return dict(health)
        time.sleep(0.1)
    raise AssertionError(f"engine not {state}: {health}\n{server.log.read_text()}")


def engine_pid(project: Path) -> int:
    return int((project / "logs" / "engine.pid").read_text())


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False
