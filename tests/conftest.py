"""Test set-up shared by every test.

Tests under `tests/docker/` need a working Docker Engine (>= 24.0.6) with Compose v2 (>= 2.21),
as Inspect's Docker sandbox does. They are REQUIRED: when Docker is missing or too old they fail
with the reason and the fix; they never skip. On a machine without Docker, deselect them
explicitly: `pytest -m "not docker"`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DOCKER_TESTS = Path(__file__).parent / "docker"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DOCKER_TESTS in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_ready() -> None:
    """Fail (never skip) unless Docker can run the tasks; build the images once."""
    import docker

    from redline_evals import doctor, images

    fix = "run scripts/setup, or deselect the Docker tests with -m 'not docker'"
    try:
        client = docker.from_env()
        client.ping()
    except Exception as ex:
        pytest.fail(f"Docker tests are required but Docker is not reachable ({ex}); {fix}", False)
    engine, compose = doctor.engine_version(client), doctor.compose_version()
    if not doctor.version_at_least(engine, doctor.ENGINE_MIN):
        pytest.fail(f"Docker Engine {engine} is older than {doctor.ENGINE_MIN}; {fix}", False)
    if not doctor.version_at_least(compose, doctor.COMPOSE_MIN):
        pytest.fail(
            f"Docker Compose v2 >= {doctor.COMPOSE_MIN} is missing ({compose}); {fix}", False
        )
    images.ensure_images(client=client, progress=print)
