"""`-T agent=...`: finding your own agent or solver, and the one-line errors for a bad one."""

from __future__ import annotations

import pytest
from inspect_ai.tool import bash

from redline_evals.families.self_replication import self_replication
from redline_evals.harness.own_agent import create_agent
from redline_evals.params import TaskParameterError

AGENTS = "tests/support/agents.py"


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("inspect_ai/basic_agent", "solver"),
        ("basic_agent", "solver"),
        ("react", "agent"),
        (f"{AGENTS}@minimal_agent", "agent"),
    ],
)
def test_agents_and_solvers_are_found(spec: str, kind: str) -> None:
    found, made = create_agent(spec, [bash()])
    assert found == kind and callable(made)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nope",
            "-T agent=nope: no @agent or @solver named 'nope' is registered (use a registry "
            "name such as inspect_ai/basic_agent, or file.py@name)",
        ),
        (
            "tests/support/nofile.py@x",
            "-T agent=tests/support/nofile.py@x: tests/support/nofile.py does not exist",
        ),
        (f"{AGENTS}@missing", f"-T agent={AGENTS}@missing: {AGENTS} defines no 'missing'"),
        (
            f"{AGENTS}@not_an_agent",
            f"-T agent={AGENTS}@not_an_agent: not_an_agent in {AGENTS} is a tool, not an "
            "@agent or @solver",
        ),
        (
            f"{AGENTS}@toolless_agent",
            f"-T agent={AGENTS}@toolless_agent: the agent takes no `tools` argument, so it "
            "cannot get the episode's bash tool (give its factory a `tools` parameter)",
        ),
        (AGENTS, f"-T agent={AGENTS}: name the agent in the file as {AGENTS}@<name>"),
        ("agents.txt@x", "-T agent=agents.txt@x: agents.txt is not a Python file (file.py@name)"),
        (f"{AGENTS}@", f"-T agent={AGENTS}@: name the agent after the @ (file.py@name)"),
    ],
)
def test_a_bad_agent_is_one_line(spec: str, message: str) -> None:
    with pytest.raises(TaskParameterError) as raised:
        create_agent(spec, [bash()])
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_a_file_that_fails_to_import_names_the_error(tmp_path: object) -> None:
    from pathlib import Path

    broken = Path(str(tmp_path)) / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(
        TaskParameterError, match=r"importing .*broken.py failed: RuntimeError: boom"
    ):
        create_agent(f"{broken}@x", [bash()])


def test_the_task_refuses_a_bad_agent_when_it_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_SKIP_IMAGE_BUILD", "1")
    with pytest.raises(
        TaskParameterError, match="^self_replication: -T agent=nope: no @agent or @solver"
    ):
        self_replication(agent="nope")


def test_the_task_records_the_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_SKIP_IMAGE_BUILD", "1")
    built = self_replication()
    assert built.metadata and built.metadata["agent"] == "react"
    own = self_replication(agent=f"{AGENTS}@minimal_agent")
    assert own.metadata and own.metadata["agent"] == f"{AGENTS}@minimal_agent"
