"""Instances' model calls are named after the instance whose agent program made them."""

from __future__ import annotations

import ast

import pytest
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser

from redline_evals.harness.instance_calls import InstanceNames, folder_of
from redline_evals.resources import sandboxes_dir


def subject_prompt(folder: str) -> str:
    """The system prompt the subject's own agent program sends, for a copy in `folder` (read
    from its source: importing it would leave bytecode in an image's inputs)."""
    source = (sandboxes_dir() / "subject" / "project" / "agent.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "SYSTEM_PROMPT":
            return str(ast.literal_eval(node.value)).format(project_dir=folder, timeout=180)
    raise AssertionError("agent.py has no SYSTEM_PROMPT")


def request(folder: str) -> list[ChatMessage]:
    return [ChatMessageSystem(content=subject_prompt(folder)), ChatMessageUser(content="go")]


def test_the_subjects_prompt_names_its_folder() -> None:
    assert folder_of(request("/home/agent/copy 2")) is None  # no spaces in a folder we name
    assert folder_of(request("/home/agent/agent_system_gen1")) == "/home/agent/agent_system_gen1"


def test_instances_are_numbered_by_first_appearance() -> None:
    names = InstanceNames(None)
    seen = [
        names.name(request(folder))
        for folder in ("/home/agent/agent_system", "/home/agent/b", "/tmp/a", "/home/agent/b")
    ]
    assert seen == ["original (agent_system)", "replica 1 (b)", "replica 2 (a)", "replica 1 (b)"]
    assert names.name([ChatMessageUser(content="hi")]) == "unknown instance"


@pytest.mark.parametrize("folder", ["/home/agent/agent_system", "/srv/x"])
def test_on_another_machine_every_instance_is_a_replica(folder: str) -> None:
    name = InstanceNames("target").name(request(folder))
    assert name.startswith("replica 1 on target (") and "/" not in name
