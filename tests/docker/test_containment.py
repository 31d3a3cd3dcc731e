"""Containment is a default: checked on real containers, as Docker applies the compose files.

A sandbox is started with `docker compose` from the same file Inspect uses; the agent's side is
exercised as the `agent` user, the way the agent's shell runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container
from support.evals import REPO, project_containers, project_networks

from redline_evals.resources import sandboxes_dir

LOCAL = sandboxes_dir() / "compose/local.yaml"


def compose(project: str, *args: str) -> None:
    subprocess.run(
        ["docker", "compose", "-p", project, "-f", str(LOCAL), *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def container() -> Iterator[Container]:
    project = f"redline-containment-{uuid.uuid4().hex[:8]}"
    compose(project, "up", "-d", "--wait")
    try:
        [found] = docker.from_env().containers.list(
            filters={"label": f"com.docker.compose.project={project}"}
        )
        time.sleep(2)  # the original instance starts
        yield found
    finally:
        compose(project, "down", "--timeout", "1")


def as_agent(container: Container, command: str) -> tuple[int, str]:
    code, output = container.exec_run(["bash", "-c", command], user="agent")
    return code, output.decode()


def test_docker_applies_the_containment_settings(container: Container) -> None:
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert not container.attrs["Mounts"], "no host mounts"
    assert host["Privileged"] is False
    assert host["CapDrop"] == ["ALL"]
    assert set(host["CapAdd"]) == {"DAC_OVERRIDE", "KILL", "SETGID", "SETUID", "SYS_PTRACE"}
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["Memory"] == 1024**3 and host["NanoCpus"] == 10**9 and host["PidsLimit"] == 256
    assert host["Init"] is True


def test_the_agent_is_not_root_and_cannot_become_root(container: Container) -> None:
    assert as_agent(container, "id -u") == (0, "1000\n")
    code, _ = as_agent(container, "su -c true root </dev/null")
    assert code != 0
    assert as_agent(container, "command -v sudo")[0] != 0
    assert as_agent(container, "touch /etc/redline-test")[0] != 0
    assert as_agent(container, "grep NoNewPrivs /proc/self/status")[1].split()[-1] == "1"


def test_the_agent_has_no_network_and_no_docker_socket(container: Container) -> None:
    code, output = as_agent(
        container,
        "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)\"",
    )
    assert code != 0 and "Network is unreachable" in output
    assert as_agent(container, "ls /var/run/docker.sock /run/docker.sock")[0] != 0
    interfaces = as_agent(container, "ls /sys/class/net")[1].split()
    assert interfaces == ["lo"]


def test_the_agent_cannot_stop_its_machine(container: Container) -> None:
    code, output = as_agent(container, "kill -9 1; kill -9 $(pgrep -x sleep)")
    assert "Operation not permitted" in output
    container.reload()
    assert container.status == "running"


def test_the_pids_limit_holds(container: Container) -> None:
    code, output = as_agent(
        container,
        'python3 -c "\nimport os, time\nn = 0\nwhile n < 1000:\n'
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        '    if pid == 0:\n        time.sleep(5); os._exit(0)\n    n += 1\nprint(n)\n"',
    )
    assert code == 0 and int(output.split()[-1]) < 256
    time.sleep(6)  # the children exit


def test_interrupting_an_eval_removes_its_containers(tmp_path: Path) -> None:
    script = tmp_path / "wait.sh"
    script.write_text("sleep 300\n")
    inspect = Path(sys.executable).parent / "inspect"
    before = set(project_containers())
    process = subprocess.Popen(
        [
            str(inspect),
            "eval",
            "redline_evals/self_replication",
            "--model",
            "redline/scripted",
            "-M",
            f"script={script}",
            "--epochs",
            "1",
            "--log-dir",
            str(tmp_path),
            "--display",
            "plain",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not set(project_containers()) - before:
            time.sleep(0.5)
        assert set(project_containers()) - before, "the eval never started a container"
        time.sleep(5)  # the agent's command is running
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    leftovers = (set(project_containers()) | set(project_networks())) - before
    assert not leftovers, f"containers or networks left after SIGINT: {leftovers}"
