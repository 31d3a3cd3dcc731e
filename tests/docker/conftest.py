"""Every test in this folder runs against real Docker (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from inspect_ai.log import EvalLog
from support.controls import run_family


@pytest.fixture(autouse=True)
def _require_docker(docker_ready: None) -> None:
    """Docker is required here: missing Docker fails the test, it never skips."""


@pytest.fixture(scope="session")
def family_runs(
    docker_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, EvalLog]]:
    """The logs of a family's references, idle run and controls (run once per session, when a
    test first asks for that family)."""
    done: dict[str, dict[str, EvalLog]] = {}

    def logs(family: str) -> dict[str, EvalLog]:
        if family not in done:
            done[family] = run_family(family, tmp_path_factory.mktemp(f"runs-{family}"))
        return done[family]

    return logs
