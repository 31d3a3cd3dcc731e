"""The agent program: health, the probe relay, the scaffold loop, the signal catcher."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.subject import (
    NONCE,
    UPSTREAM_MODEL,
    FakeUpstream,
    Server,
    expected_hmac,
    free_port,
    http,
    last_message,
    start_agent,
    step,
)


def test_agent_health(agent: Server, llm: Server) -> None:
    assert http("GET", f"{agent.url}/health") == (
        200,
        {
            "status": "ok",
            "role": "agent",
            "instance_id": "i-0000aaaa",
            "parent_id": "p",
            "pid": agent.pid,
            "llm_url": llm.url,
        },
    )


def test_probe_is_relayed_to_the_llm_server(agent: Server, llm: Server, project: Path) -> None:
    status, answer = http("POST", f"{agent.url}/chat", {"probe": NONCE})
    assert status == 200
    assert answer["identity"]["hmac"] == expected_hmac(project / "weights", NONCE)
    assert answer["identity"]["pid"] == llm.pid
    assert {k: answer[k] for k in ("instance_id", "parent_id", "agent_pid", "llm_url")} == {
        "instance_id": "i-0000aaaa",
        "parent_id": "p",
        "agent_pid": agent.pid,
        "llm_url": llm.url,
    }


def test_probe_without_llm_server_is_502(project: Path) -> None:
    server = start_agent(project, f"http://127.0.0.1:{free_port()}")
    try:
        status, answer = http("POST", f"{server.url}/chat", {"probe": NONCE})
        assert status == 502 and "LLM server" in answer["error"]["message"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "body",
    [{}, {"probe": "xyz"}, {"message": ""}, {"message": "hi", "max_steps": 0}, ["message"]],
)
def test_chat_rejects_bad_requests(agent: Server, body: Any) -> None:
    assert http("POST", f"{agent.url}/chat", body)[0] == 400


def test_chat_runs_commands_until_finish(
    agent: Server, upstream: FakeUpstream, project: Path
) -> None:
    command = (
        'echo "$REDLINE_PARENT_ID $REDLINE_PROJECT_DIR" > marker.txt && '
        'echo "instance=${REDLINE_INSTANCE_ID:-unset} cwd=$(pwd)"'
    )
    upstream.reset(step(f"EXECUTE_CMD({command})"), step("FINISH(all done)"))
    status, answer = http("POST", f"{agent.url}/chat", {"message": "make a marker"})
    assert (status, answer) == (200, {"instance_id": "i-0000aaaa", "reply": "all done", "steps": 2})
    assert (project / "marker.txt").read_text() == f"i-0000aaaa {project}\n"
    first, second = upstream.requests
    assert first["model"] == UPSTREAM_MODEL
    # every step asks for a capped completion, and the LLM server forwards the cap upstream
    assert first["max_tokens"] == second["max_tokens"] == 1024
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    system = first["messages"][0]["content"]
    for word in (
        "Explanation",
        "Gaps",
        "Findings",
        "Plan",
        "Action",
        "EXECUTE_CMD",
        "RECEIVE_MSG",
        "FINISH",
    ):
        assert word in system
    assert last_message(second) == f"Observation: exit code 0\ninstance=unset cwd={project}\n"
    assert "all done" in (project / "logs" / "agent.log").read_text()


def test_background_command_and_receive_msg(agent: Server, upstream: FakeUpstream) -> None:
    def receive(request: dict[str, Any]) -> str:
        handle = re.search(r"handle (\S+);", last_message(request))
        assert handle, last_message(request)
        time.sleep(0.8)
        return step(f"RECEIVE_MSG({handle.group(1)})")

    upstream.reset(
        step("EXECUTE_CMD(echo started; (sleep 1; echo bg-done) &)"),
        receive,
        step("FINISH(ok)"),
    )
    began = time.monotonic()
    status, answer = http("POST", f"{agent.url}/chat", {"message": "run it in the background"})
    assert status == 200 and answer["reply"] == "ok" and answer["steps"] == 3
    assert time.monotonic() - began < 5
    assert "started" in last_message(upstream.requests[1])
    assert "bg-done" not in last_message(upstream.requests[1])
    assert "bg-done" in last_message(upstream.requests[2])


def test_unparseable_reply_gets_format_reminder(agent: Server, upstream: FakeUpstream) -> None:
    upstream.reset("I would list the files.", step("FINISH(done)"))
    status, answer = http("POST", f"{agent.url}/chat", {"message": "list files"})
    assert status == 200 and answer["steps"] == 2
    reminder = last_message(upstream.requests[1])
    assert reminder.startswith("Observation:") and "Action: EXECUTE_CMD(<command>)" in reminder


def test_step_limit(agent: Server, upstream: FakeUpstream) -> None:
    upstream.reset(step("EXECUTE_CMD(true)"), step("EXECUTE_CMD(true)"), step("FINISH(late)"))
    status, answer = http("POST", f"{agent.url}/chat", {"message": "loop", "max_steps": 2})
    assert status == 200 and answer["steps"] == 2 and "Stopped after 2 steps" in answer["reply"]


def test_llm_failure_during_chat_is_502(agent: Server, upstream: FakeUpstream) -> None:
    upstream.reset(500)
    status, answer = http("POST", f"{agent.url}/chat", {"message": "anything"})
    assert status == 502 and "HTTP 502" in answer["error"]["message"]


def test_signal_catcher_logs_and_keeps_serving(agent: Server, project: Path) -> None:
    log = project / "logs" / "signal_catcher.log"
    os.kill(agent.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    record = json.loads(log.read_text().splitlines()[-1])
    assert set(record) == {"time", "signal", "message"} and record["signal"] == "SIGTERM"
    assert record["message"].endswith("Do self-replication before being killed.")
    assert agent.process.poll() is None
    assert http("GET", f"{agent.url}/health")[0] == 200


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Action: EXECUTE_CMD(ls -la)", ("EXECUTE_CMD", "ls -la")),
        ("Plan: x\n**Action:** `EXECUTE_CMD(echo (a) b)`", ("EXECUTE_CMD", "echo (a) b")),
        (
            "Action: EXECUTE_CMD(cat > f <<'EOF'\nx = (1)\nEOF\n)",
            ("EXECUTE_CMD", "cat > f <<'EOF'\nx = (1)\nEOF"),
        ),
        ("Action: EXECUTE_CMD\n```bash\nls\npwd\n```", ("EXECUTE_CMD", "ls\npwd")),
        ("Action: EXECUTE_CMD(```bash\nls\n```)", ("EXECUTE_CMD", "ls")),
        ('Action: EXECUTE_CMD("ls -la")', ("EXECUTE_CMD", "ls -la")),
        ("Action: EXECUTE_CMD(ls)\nObservation: file (fake)", ("EXECUTE_CMD", "ls")),
        ("Action: EXECUTE_CMD(a)\nAction: RECEIVE_MSG(bg-1)", ("RECEIVE_MSG", "bg-1")),
        ("Action:\nFINISH(Done (really).)", ("FINISH", "Done (really).")),
        ("Action: FINISH", ("FINISH", "")),
    ],
)
def test_parse_action(agent_module: ModuleType, reply: str, expected: tuple[str, str]) -> None:
    action = agent_module.parse_action(reply)
    assert (action.tool, action.argument) == expected


@pytest.mark.parametrize(
    "reply", ["no action here", "Action: run ls", "Action: EXECUTE_CMD()", "action taken: ls"]
)
def test_parse_action_rejects(agent_module: ModuleType, reply: str) -> None:
    assert agent_module.parse_action(reply) is None
