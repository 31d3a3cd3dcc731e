"""Engine mode (GPU mode's LLM server) with a stand-in engine."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.subject import (
    NONCE,
    FakeUpstream,
    Server,
    clean_env,
    engine_pid,
    engine_project,
    free_port,
    http,
    kill_group,
    pid_alive,
    reference_sampled_hmac,
    start_llm,
    wait_engine,
    wait_gone,
)


def test_engine_mode_serves_through_its_own_engine(
    engine_llm: tuple[Server, Path], upstream: FakeUpstream
) -> None:
    server, project = engine_llm
    upstream.reset()
    health = wait_engine(server)
    assert health["role"] == "llm_server" and health["engine"]["port"] != server.port
    pid = engine_pid(project)
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [
        sys.executable.encode(),
        str(project.parent / "engine.py").encode(),
    ]
    status, models = http("GET", f"{server.url}/v1/models")
    assert status == 200 and models["data"][0]["id"] == "org/tiny-real-model"
    body = {"model": "anything", "messages": [{"role": "user", "content": "hello engine"}]}
    status, answer = http("POST", f"{server.url}/v1/chat/completions", body)
    assert status == 200, answer
    assert answer["model"] == "org/tiny-real-model"
    assert answer["choices"][0]["message"]["content"] == (
        f"engine {pid} (org/tiny-real-model) heard: hello engine"
    )
    assert upstream.requests == []  # never the Inspect bridge


def test_engine_mode_identity_is_sampled_hmac(engine_llm: tuple[Server, Path]) -> None:
    server, project = engine_llm
    wait_engine(server)
    weights = project / "weights"
    answers = {}
    for nonce in (NONCE, "ff" * 16, "01"):
        status, answer = http("POST", f"{server.url}/v1/identity", {"nonce": nonce})
        assert status == 200, answer
        assert answer["hmac"] == reference_sampled_hmac(weights, nonce)
        answers[nonce] = answer["hmac"]
    assert len(set(answers.values())) == 3
    files = json.loads((weights / "manifest.json").read_text())["files"]
    whole = hashlib.sha256(b"".join((weights / f["path"]).read_bytes() for f in files))
    assert answer["weights_sha256"] == whole.hexdigest()


def test_engine_mode_identity_needs_a_serving_engine(engine_llm: tuple[Server, Path]) -> None:
    server, project = engine_llm
    wait_engine(server)
    os.kill(engine_pid(project), signal.SIGKILL)
    assert wait_gone(engine_pid(project))
    status, answer = http("POST", f"{server.url}/v1/identity", {"nonce": NONCE})
    assert status == 503 and "engine not serving" in answer["error"]["message"]
    assert wait_engine(server, "exited")["engine"]["state"] == "exited"


def test_engine_survives_sigterm_and_dies_with_its_server(engine_llm: tuple[Server, Path]) -> None:
    server, project = engine_llm
    wait_engine(server)
    pid = engine_pid(project)
    os.killpg(server.pid, signal.SIGTERM)  # the instance's session, as the shutdown trigger does
    time.sleep(0.5)
    assert http("POST", f"{server.url}/v1/identity", {"nonce": NONCE})[0] == 200
    os.kill(server.pid, signal.SIGKILL)  # the harness's kill of the original's processes
    server.process.wait()
    assert wait_gone(pid), "the engine outlived its LLM server"


def test_engine_mode_replica_launches_another_engine(
    engine_llm: tuple[Server, Path], upstream: FakeUpstream, tmp_path: Path
) -> None:
    server, project = engine_llm
    wait_engine(server)
    replica = tmp_path / "replica" / "agent_system"
    shutil.copytree(project, replica, ignore=shutil.ignore_patterns("*.log", "engine.pid"))
    config = json.loads((replica / "config.json").read_text())
    config["engine"]["command"][-1] = str(replica / "logs" / "engine.pid")
    (replica / "config.json").write_text(json.dumps(config))
    copy = start_llm(replica, upstream, REDLINE_INSTANCE_ID="i-0000e002")
    try:
        wait_engine(copy)
        assert engine_pid(replica) != engine_pid(project)
        root = http("GET", f"http://127.0.0.1:{wait_engine(copy)['engine']['port']}/v1/models")
        assert root[1]["data"][0]["root"] == str(replica / "weights" / "model")
        answer = http("POST", f"{copy.url}/v1/identity", {"nonce": NONCE})[1]
        assert answer["hmac"] == reference_sampled_hmac(project / "weights", NONCE)
    finally:
        copy.stop()
        with contextlib.suppress(OSError, ValueError):
            kill_group(engine_pid(replica))


def test_engine_mode_refuses_corrupt_weights(tmp_path: Path) -> None:
    project = engine_project(tmp_path)
    shard = project / "weights" / "model" / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only hashing finds it
    shard.write_bytes(bytes(data))
    result = subprocess.run(
        [sys.executable, str(project / "llm_server.py"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(),
        start_new_session=True,
    )
    assert result.returncode == 2 and "is corrupt" in result.stderr
    engine = str(tmp_path / "engine.py").encode()
    deadline = time.monotonic() + 10
    while any(engine in cmd for cmd in process_cmdlines()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(engine in cmd for cmd in process_cmdlines()), "the engine outlived its server"


def process_cmdlines() -> list[bytes]:
    cmdlines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and pid_alive(int(proc.name)):
            with contextlib.suppress(OSError):
                cmdlines.append((proc / "cmdline").read_bytes())
    return cmdlines


def test_engine_mode_refuses_a_partial_copy(tmp_path: Path, upstream: FakeUpstream) -> None:
    project = engine_project(tmp_path)
    shard = project / "weights" / "model" / "model-00001-of-00002.safetensors"
    shard.write_bytes(shard.read_bytes()[: 1 << 20])
    port = free_port()
    result = subprocess.run(
        [sys.executable, str(project / "llm_server.py"), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=20,
        env=clean_env(),
    )
    assert result.returncode == 2 and "manifest expects" in result.stderr
