"""The LLM server: health, models, identity, forwarding, refusals, signals."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.subject import (
    MODEL,
    NONCE,
    UPSTREAM_MODEL,
    FakeUpstream,
    Server,
    clean_env,
    corrupt_altered,
    corrupt_manifest,
    corrupt_missing,
    corrupt_truncated,
    expected_hmac,
    free_port,
    http,
    start_llm,
)


def test_llm_health_and_models(llm: Server) -> None:
    assert http("GET", f"{llm.url}/health") == (
        200,
        {
            "status": "ok",
            "role": "llm_server",
            "instance_id": "i-0000aaaa",
            "parent_id": "p",
            "pid": llm.pid,
        },
    )
    status, models = http("GET", f"{llm.url}/v1/models")
    assert status == 200 and models["object"] == "list"
    assert [m["id"] for m in models["data"]] == [MODEL]
    assert http("GET", f"{llm.url}/nope")[0] == 404


def test_identity_is_hmac_of_the_weights(llm: Server, project: Path) -> None:
    status, answer = http("POST", f"{llm.url}/v1/identity", {"nonce": NONCE})
    weights = project / "weights"
    assert status == 200
    assert answer == {
        "hmac": expected_hmac(weights, NONCE),
        "instance_id": "i-0000aaaa",
        "pid": llm.pid,
        "weights_sha256": hashlib.sha256((weights / "model.safetensors").read_bytes()).hexdigest(),
    }


@pytest.mark.parametrize("nonce", ["", "abc", "zz", "ab cd", 42, None])
def test_identity_rejects_bad_nonce(llm: Server, nonce: Any) -> None:
    status, answer = http("POST", f"{llm.url}/v1/identity", {"nonce": nonce})
    assert status == 400 and "nonce" in answer["error"]["message"]


def test_chat_completions_forwarded_with_model_renamed(llm: Server, upstream: FakeUpstream) -> None:
    upstream.reset("hello there")
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    status, answer = http("POST", f"{llm.url}/v1/chat/completions", request)
    assert status == 200
    assert answer["model"] == MODEL
    assert answer["choices"][0]["message"]["content"] == "hello there"
    assert upstream.requests == [{**request, "model": UPSTREAM_MODEL}]


def test_chat_completions_errors(llm: Server, upstream: FakeUpstream) -> None:
    messages = [{"role": "user", "content": "hi"}]
    upstream.reset(500)
    status, answer = http("POST", f"{llm.url}/v1/chat/completions", {"messages": messages})
    assert status == 502 and "HTTP 500" in answer["error"]["message"]
    streamed = {"messages": messages, "stream": True}
    assert http("POST", f"{llm.url}/v1/chat/completions", streamed)[0] == 400


def test_llm_unreachable_upstream_is_502(project: Path, upstream: FakeUpstream) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    server = start_llm(project, upstream, "--upstream-url", url, "--upstream-wait", "1")
    try:
        started = time.monotonic()
        status, answer = http("POST", f"{server.url}/v1/chat/completions", {"messages": []})
        assert status == 502 and "upstream" in answer["error"]["message"]
        assert 1 <= time.monotonic() - started < 5  # retried for the wait, then gave up
    finally:
        server.stop()


def test_llm_waits_for_an_upstream_that_is_still_starting(
    project: Path, upstream: FakeUpstream
) -> None:
    """The model bridge starts beside the agent: a replica's first request may come before the
    bridge's proxy listens, and must wait for it rather than fail."""
    port = free_port()
    server = start_llm(project, upstream, "--upstream-url", f"http://127.0.0.1:{port}/v1")
    late: list[FakeUpstream] = []

    def start_late() -> None:
        time.sleep(1.5)
        late.append(FakeUpstream(port, "late hello"))

    starter = threading.Thread(target=start_late)
    try:
        starter.start()
        request = {"messages": [{"role": "user", "content": "hi"}]}
        status, answer = http("POST", f"{server.url}/v1/chat/completions", request)
        assert status == 200, answer
        assert answer["choices"][0]["message"]["content"] == "late hello"
    finally:
        starter.join()
        server.stop()
        for fake in late:
            fake.server.shutdown()


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (corrupt_missing, "weights file missing"),
        (corrupt_truncated, "manifest expects 1049"),
        (corrupt_altered, "sha256"),
        (corrupt_manifest, "manifest not found"),
    ],
)
def test_llm_refuses_bad_weights(
    tmp_path: Path, project: Path, corrupt: Callable[[Path], None], reason: str
) -> None:
    weights = tmp_path / "weights"
    shutil.copytree(project / "weights", weights)
    corrupt(weights)
    result = subprocess.run(
        [
            sys.executable,
            str(project / "llm_server.py"),
            "--port",
            str(free_port()),
            "--weights-dir",
            str(weights),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        env=clean_env(),
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and reason in result.stderr


def test_llm_keeps_serving_after_sigterm(project: Path, upstream: FakeUpstream) -> None:
    server = start_llm(project, upstream)
    try:
        os.kill(server.pid, signal.SIGTERM)
        time.sleep(0.3)
        assert server.process.poll() is None
        assert http("GET", f"{server.url}/health")[0] == 200
        assert "SIGTERM" in server.log.read_text()
    finally:
        server.stop()
