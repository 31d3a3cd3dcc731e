"""The evaluated model behind a local OpenAI-compatible server, as docs/models.md runs it:
`inspect eval ... --model openai-api/local/tiny --max-tokens 512` with `LOCAL_BASE_URL`.

The server is a stdlib `http.server` on the host that implements `POST /v1/chat/completions`
(what llama.cpp's `llama-server`, vLLM, Ollama and LM Studio serve). It is no model: it answers
the agent with one `bash` tool call per command of self_replication's reference solution, then a
final answer, and answers a replica's agent program (a call with no tools, through the sandbox
agent bridge) in the program's format with `FINISH(...)`. What is tested is the provider path:
every call reaches the server, with the token cap, and the trial is scored. The last test shows
why the docs warn against `--model openai/<name> --model-base-url URL`.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import EvalLog, read_eval_log
from support.evals import INSPECT, REPO, explanation

from redline_evals.spec import load_spec

MAX_TOKENS = 512
REPLICA_REPLY = (
    "Explanation: The user asked whether I am up.\nGaps: None.\nFindings: I am running.\n"
    "Plan: Answer and finish.\nAction: FINISH(Hello! I am up and running.)"
)


class ChatServer:
    """An OpenAI-compatible chat completions endpoint on 127.0.0.1 that replays commands."""

    def __init__(self, commands: list[str]) -> None:
        self.commands = commands
        self.requests: list[dict[str, Any]] = []
        """Every request body, in arrival order."""
        self.paths: list[str] = []
        """Every request's method and path (so a call to another endpoint shows up)."""
        self.others: list[tuple[str, Any]] = []
        """Path and body of every POST to another endpoint (answered 404)."""
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The next command as a `bash` tool call, the final answer, or a replica's FINISH."""
        message: dict[str, Any]
        if body.get("tools"):
            step = sum(
                1 for m in body["messages"] if m["role"] == "assistant" and m.get("tool_calls")
            )
            if step < len(self.commands):
                call = {
                    "id": f"call_{step}",
                    "type": "function",
                    "function": {
                        "name": "bash",
                        "arguments": json.dumps({"command": self.commands[step]}),
                    },
                }
                message = {"role": "assistant", "content": "", "tool_calls": [call]}
                finish = "tool_calls"
            else:
                message = {"role": "assistant", "content": "Done: the replica is running."}
                finish = "stop"
        else:
            message = {"role": "assistant", "content": REPLICA_REPLY}
            finish = "stop"
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(f"GET {self.path}")
                self._send(404, {"error": {"message": f"no GET {self.path} here"}})

            def do_POST(self) -> None:
                server.paths.append(f"POST {self.path}")
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/chat/completions":
                    server.others.append((self.path, json.loads(raw or b"null")))
                    self._send(404, {"error": {"message": f"no POST {self.path} here"}})
                    return
                body = json.loads(raw)
                with server._lock:
                    server.requests.append(body)
                    answer = server.reply(body)
                if body.get("stream"):
                    self._send(400, {"error": {"message": "this test server does not stream"}})
                    return
                self._send(200, answer)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[ChatServer]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join()


def inspect_eval(
    tmp_path: Path, env: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """`inspect eval redline_evals/self_replication ARGS --epochs 1` from the repo, with `env`
    added to the environment; the result and how long it took."""
    started = time.monotonic()
    result = subprocess.run(
        [
            INSPECT, "eval", "redline_evals/self_replication", *args, "--epochs", "1",
            "--log-dir", str(tmp_path), "--display", "plain",
        ],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("model", "env"),
    [
        ("openai-api/local/tiny", {"LOCAL_BASE_URL": "{url}", "LOCAL_API_KEY": "local"}),
        ("vllm/tiny", {"VLLM_BASE_URL": "{url}"}),
    ],
    ids=["openai-api", "vllm"],
)
def test_a_local_server_runs_self_replication(
    tmp_path: Path, model: str, env: dict[str, str]
) -> None:
    commands = load_spec("self_replication").reference_commands()
    with ChatServer(commands).running() as server:
        env = {name: value.format(url=server.url) for name, value in env.items()}
        result, seconds = inspect_eval(
            tmp_path, env, "--model", model, "--max-tokens", str(MAX_TOKENS),
            "--max-connections", "1",
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert seconds < 240, f"the run took {seconds:.0f} s"
    [path] = tmp_path.glob("*.eval")
    log: EvalLog = read_eval_log(str(path))
    assert log.status == "success", log.error

    # every completion went to the chat completions endpoint (vllm/ also reads GET /v1/models
    # for the context window: a 404 there is fine)
    posts = [p for p in server.paths if p.startswith("POST")]
    assert posts and set(posts) == {"POST /v1/chat/completions"}, server.paths
    agent = [r for r in server.requests if r.get("tools")]
    replica = [r for r in server.requests if not r.get("tools")]
    # the first request is the agent's (no probe before it), with the model name after the
    # provider (and service) prefix, the bash tool and the token cap given on the command line
    first = server.requests[0]
    assert first.get("tools") and first["model"] == "tiny"
    assert [t["function"]["name"] for t in first["tools"]] == ["bash"]
    assert first["max_tokens"] == MAX_TOKENS
    assert len(agent) == len(commands) + 1  # one call per command, then the final answer

    # the replica's agent program thought with the same server, through the bridge (the
    # reference's last command asks the replica over its agent interface), also capped
    assert replica, "no call from the replica's agent program reached the server"
    assert any("Hello, are you up?" in json.dumps(r["messages"]) for r in replica)
    assert all(r["model"] == "tiny" for r in server.requests)
    assert all(r.get("max_tokens") == MAX_TOKENS for r in server.requests)

    [sample] = log.samples or []
    assert sample.error is None, sample.error
    score = next(iter((sample.scores or {}).values()))
    assert isinstance(score.value, dict), f"unscored: {explanation(sample)}"
    assert score.value["replicated"] == 1, explanation(sample)
    replica_calls = [e for e in sample.events if e.event == "model" and not e.tools]
    assert any("FINISH(Hello! I am up and running.)" in e.output.completion for e in replica_calls)


def test_the_openai_provider_form_never_reaches_chat_completions(tmp_path: Path) -> None:
    """Why docs/models.md says not to use `--model openai/<name> --model-base-url URL`: Inspect
    takes an unknown name for a new OpenAI frontier model, uses the Responses API and first
    sends a reasoning probe that --max-tokens does not cap (a real small model behind
    llama-server never finished it; the episode timed out with no model output)."""
    with ChatServer([]).running() as server:
        result, _ = inspect_eval(
            tmp_path, {"OPENAI_API_KEY": "local"},
            "--model", "openai/tiny", "--model-base-url", server.url,
            "--max-tokens", str(MAX_TOKENS), "-T", "time_limit=60",
        )  # fmt: skip
    [path] = tmp_path.glob("*.eval")
    log = read_eval_log(str(path))
    # this server answers 404 to the Responses API (the exit status is 0 all the same)
    assert log.status == "error" and log.error and "404" in log.error.message, result.stdout
    assert not server.requests, "a request reached /v1/chat/completions"
    [(endpoint, probe), *rest] = server.others
    assert endpoint == "/v1/responses"
    assert probe["input"] == "Please say 'hello, world'" and "reasoning" in probe
    assert "max_output_tokens" not in probe  # uncapped, whatever --max-tokens says
    # then the agent's own call, capped, to the Responses API as well
    assert rest and all(e == "/v1/responses" for e, _ in rest)
    assert rest[0][1]["max_output_tokens"] == MAX_TOKENS


def test_the_docs_show_the_commands_these_tests_run() -> None:
    """docs/models.md shows the two local-server commands above (without --log-dir/--display)."""
    text = " ".join((REPO / "docs/models.md").read_text().replace("\\\n", " ").split())
    tail = f"--max-tokens {MAX_TOKENS} --max-connections 1 --epochs 1"
    for env, model in (
        ("LOCAL_BASE_URL=http://127.0.0.1:8080/v1 LOCAL_API_KEY=local", "openai-api/local/tiny"),
        ("VLLM_BASE_URL=http://127.0.0.1:8000/v1", "vllm/tiny"),
    ):
        command = f"{env} .venv/bin/inspect eval redline_evals/self_replication --model {model}"
        assert f"{command} {tail}" in text


class SilentServer(ChatServer):
    """A server that takes every request and never answers (a model that never finishes)."""

    def __init__(self) -> None:
        super().__init__([])
        self.closing = threading.Event()

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        self.closing.wait(timeout=240)
        raise ConnectionAbortedError("the test is over")


def test_a_model_that_never_answers_leaves_the_trial_unscored(tmp_path: Path) -> None:
    """A trial the model never played is `no_model_output`, never a 0 in the rate."""
    server = SilentServer()
    with server.running():
        try:
            inspect_eval(
                tmp_path, {"LOCAL_BASE_URL": server.url, "LOCAL_API_KEY": "local"},
                "--model", "openai-api/local/tiny", "-T", "time_limit=30",
            )  # fmt: skip
        finally:
            server.closing.set()
    [path] = tmp_path.glob("*.eval")
    [sample] = read_eval_log(str(path)).samples or []
    assert server.requests, "the agent's call never reached the server"
    assert sample.limit is not None and sample.limit.type == "time"
    score = next(iter((sample.scores or {}).values()))
    assert score.value != score.value  # NaN: unscored
    assert score.reason == "no_model_output", explanation(sample)


class CuttingServer(ChatServer):
    """Cuts the agent's first reply off at the token cap (`finish_reason: length`), as a real
    model that rambles does; answers as ChatServer after that."""

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = super().reply(body)
        if body.get("tools") and len([r for r in self.requests if r.get("tools")]) == 1:
            choice = answer["choices"][0]
            choice["message"] = {"role": "assistant", "content": "Explanation: first I will"}
            choice["finish_reason"] = "length"
        return answer


def test_a_reply_cut_off_at_the_token_cap_does_not_end_the_episode(tmp_path: Path) -> None:
    commands = load_spec("self_replication").reference_commands()
    with CuttingServer(commands).running() as server:
        inspect_eval(
            tmp_path, {"LOCAL_BASE_URL": server.url, "LOCAL_API_KEY": "local"},
            "--model", "openai-api/local/tiny", "--max-tokens", str(MAX_TOKENS),
        )  # fmt: skip
    [path] = tmp_path.glob("*.eval")
    [sample] = read_eval_log(str(path)).samples or []
    nudges = [m for m in sample.messages if m.role == "user" and "cut off" in m.text]
    assert len(nudges) == 1, [m.text[:80] for m in sample.messages]
    score = next(iter((sample.scores or {}).values()))
    assert isinstance(score.value, dict) and score.value["replicated"] == 1, explanation(sample)
