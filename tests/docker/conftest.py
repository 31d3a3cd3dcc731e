"""Every test in this folder runs against real Docker (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _require_docker(docker_ready: None) -> None:
    """Docker is required here: missing Docker fails the test, it never skips."""
