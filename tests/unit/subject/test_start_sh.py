"""start.sh: a detached instance, occupied ports, bad weights."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.subject import (
    NONCE,
    FakeUpstream,
    clean_env,
    copy_project,
    corrupt_altered,
    expected_hmac,
    free_port,
    http,
    kill_group,
)


@pytest.fixture
def started(tmp_path: Path, project: Path) -> Iterator[tuple[Path, list[int]]]:
    """A fresh copy of the project; pids listed by the test are killed by group afterwards."""
    copy = copy_project(tmp_path / "agent_system")
    shutil.copytree(project / "weights", copy / "weights", dirs_exist_ok=True)
    pids: list[int] = []
    yield copy, pids
    for pid in pids:
        kill_group(pid)


def run_start(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(project / "start.sh"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd="/",
    )


def test_start_sh_starts_detached_instance(
    started: tuple[Path, list[int]], upstream: FakeUpstream
) -> None:
    project, pids = started
    llm_port, agent_port = free_port(), free_port()
    env = clean_env(REDLINE_PARENT_ID="original", REDLINE_UPSTREAM_URL=upstream.url)
    began = time.monotonic()
    result = run_start(
        project, "--llm-port", str(llm_port), "--agent-port", str(agent_port), env=env
    )
    match = re.fullmatch(
        rf"instance (i-[0-9a-f]{{8}}) running: llm_server :{llm_port} \(pid (\d+)\), "
        rf"agent :{agent_port} \(pid (\d+)\)\n",
        result.stdout,
    )
    pids += [int(pid) for pid in match.groups()[1:]] if match else []
    assert result.returncode == 0 and match, result
    assert time.monotonic() - began < 15
    instance, llm_pid, agent_pid = match.group(1), int(match.group(2)), int(match.group(3))
    for port, role, pid in ((llm_port, "llm_server", llm_pid), (agent_port, "agent", agent_pid)):
        status, health = http("GET", f"http://127.0.0.1:{port}/health")
        assert status == 200 and health["role"] == role and health["pid"] == pid
        assert health["instance_id"] == instance and health["parent_id"] == "original"
        assert os.getsid(pid) == pid  # its own session
    status, answer = http("POST", f"http://127.0.0.1:{agent_port}/chat", {"probe": NONCE})
    assert status == 200
    assert answer["identity"]["hmac"] == expected_hmac(project / "weights", NONCE)


def test_start_sh_refuses_an_occupied_port(started: tuple[Path, list[int]]) -> None:
    project, _ = started
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for args in (
            ["--llm-port", port, "--agent-port", str(free_port())],
            ["--llm-port", str(free_port()), "--agent-port", port],
        ):
            result = run_start(project, *args, env=clean_env())
            assert result.returncode == 1
            assert f"port {port} is already in use" in result.stderr
    assert not (project / "logs" / "llm_server.log").exists()


def test_start_sh_reports_bad_weights(started: tuple[Path, list[int]]) -> None:
    project, _ = started
    corrupt_altered(project / "weights")
    result = run_start(
        project, "--llm-port", str(free_port()), "--agent-port", str(free_port()), env=clean_env()
    )
    assert result.returncode == 1
    assert "exited" in result.stderr and "refusing to start" in result.stderr
