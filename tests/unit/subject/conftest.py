"""Fixtures of the subject system's unit tests: a project copy with weights, a fake upstream,
and a running LLM server and agent program."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from support.subject import (
    FakeUpstream,
    Server,
    copy_project,
    engine_pid,
    engine_project,
    kill_group,
    make_weights,
    start_agent,
    start_llm,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("subject") / "agent_system")
    make_weights(project)
    return project


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture(scope="module")
def llm(project: Path, upstream: FakeUpstream) -> Iterator[Server]:
    server = start_llm(project, upstream, REDLINE_INSTANCE_ID="i-0000aaaa", REDLINE_PARENT_ID="p")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def agent(project: Path, llm: Server) -> Iterator[Server]:
    server = start_agent(project, llm.url, REDLINE_INSTANCE_ID="i-0000aaaa", REDLINE_PARENT_ID="p")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def agent_module(project: Path) -> Iterator[ModuleType]:
    """agent.py imported from the project copy (so no bytecode lands in the source tree)."""
    spec = importlib.util.spec_from_file_location("subject_agent", project / "agent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def engine_llm(tmp_path: Path, upstream: FakeUpstream) -> Iterator[tuple[Server, Path]]:
    project = engine_project(tmp_path)
    server = start_llm(project, upstream, REDLINE_INSTANCE_ID="i-0000e001")
    yield server, project
    server.stop()
    with contextlib.suppress(OSError, ValueError):
        kill_group(engine_pid(project))
