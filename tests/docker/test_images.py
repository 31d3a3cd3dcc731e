"""The real images: built offline by `ensure_images`, idempotent, and what the tasks expect."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import docker
import pytest

from redline_evals import images
from redline_evals.images import (
    BASE_IMAGE,
    IMAGES,
    INPUTS_LABEL,
    SOURCE_LABEL,
    SUBJECT_IMAGE,
    ImageResult,
    ensure_images,
    image_status,
)

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

SIZE_LIMIT = 200_000_000
"""Base plus subject must stay under this many bytes."""

PRISTINE = "/opt/redline/home/agent_system"
"""The image's copy of the project; the entrypoint fills the agent's tmpfs home from it."""

WEIGHTS_CHECK = f"""
import hashlib, json, pathlib
weights = pathlib.Path('{PRISTINE}/weights')
manifest = json.loads((weights / 'manifest.json').read_text())
files = [
    {{'path': f['path'], 'size': (weights / f['path']).stat().st_size,
     'sha256': hashlib.sha256((weights / f['path']).read_bytes()).hexdigest()}}
    for f in manifest['files']
]
print(json.dumps({{'manifest': manifest, 'found': files}}))
"""


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return docker.from_env()


@pytest.fixture(scope="module")
def built() -> list[ImageResult]:
    """Build (or confirm) every image once for this module."""
    return ensure_images(progress=print)


def _run(client: docker.DockerClient, image: str, command: list[str], user: str = "") -> str:
    """Run a command in a fresh container without network; return its output."""
    output = client.containers.run(
        image, command, user=user, network_mode="none", remove=True, stdout=True, stderr=True
    )
    return bytes(output).decode()


def test_ensure_images_builds_every_image(built: list[ImageResult]) -> None:
    assert [result.name for result in built] == [spec.name for spec in IMAGES]
    assert built[0].name == BASE_IMAGE and SUBJECT_IMAGE in [r.name for r in built]
    statuses = image_status()
    assert all(status.up_to_date for status in statuses), statuses


def test_second_call_skips_quickly(built: list[ImageResult]) -> None:
    start = time.monotonic()
    again = ensure_images(progress=print)
    elapsed = time.monotonic() - start
    assert {result.action for result in again} == {"skipped"}
    assert [result.image_id for result in again] == [result.image_id for result in built]
    assert elapsed < 5, f"warm ensure_images took {elapsed:.1f} s"


def test_image_sizes_are_reported(built: list[ImageResult]) -> None:
    for result in built:
        print(f"{result.name}: {result.size_bytes / 1e6:.0f} MB ({result.action}, {result.detail})")
        assert result.size_bytes > 0
    sizes = {result.name: result.size_bytes for result in built}
    assert sizes[BASE_IMAGE] < sizes[SUBJECT_IMAGE] <= SIZE_LIMIT


def test_images_carry_their_input_labels(client: docker.DockerClient, built: object) -> None:
    base, subject = client.images.get(BASE_IMAGE), client.images.get(SUBJECT_IMAGE)
    assert base.labels[INPUTS_LABEL] != subject.labels[INPUTS_LABEL]
    assert base.labels[SOURCE_LABEL] in ("debootstrap", "registry")
    assert "LANG=C.UTF-8" in base.attrs["Config"]["Env"]


def test_subject_has_the_python_it_needs_offline(
    client: docker.DockerClient, built: object
) -> None:
    command = [
        "python3",
        "-c",
        "import http.server, hmac, hashlib, json, socketserver; print('ok')",
    ]
    assert _run(client, SUBJECT_IMAGE, command).strip() == "ok"


def test_subject_tools(client: docker.DockerClient, built: object) -> None:
    output = _run(client, SUBJECT_IMAGE, ["bash", "-c", "command -v ps ip curl ssh | wc -l"])
    assert output.strip() == "4"


def test_agent_user(client: docker.DockerClient, built: object) -> None:
    image = client.images.get(SUBJECT_IMAGE)
    # the container's own processes run as root (the agent cannot stop its machine); the
    # entrypoint starts the original instance as `agent`, and the agent's shell runs as `agent`
    assert image.attrs["Config"]["User"] == "root"
    assert image.attrs["Config"]["WorkingDir"] == "/home/agent"
    assert image.attrs["Config"]["Cmd"] == ["/opt/redline/entrypoint.sh"]
    assert "REDLINE_PARENT_ID" not in " ".join(image.attrs["Config"]["Env"] or [])
    script = (
        "id -u; id -g; getent passwd agent; stat -c '%U %a' /opt/redline/entrypoint.sh; "
        f"stat -c '%U' {PRISTINE} {PRISTINE}/weights/model.safetensors"
    )
    lines = _run(client, SUBJECT_IMAGE, ["bash", "-c", script], user="agent").splitlines()
    assert lines[:2] == ["1000", "1000"]
    assert lines[2] == "agent:x:1000:1000::/home/agent:/bin/bash"
    assert lines[3] == "root 755"
    assert lines[4:] == ["agent", "agent"]


def test_weights_match_their_manifest(client: docker.DockerClient, built: object) -> None:
    report = json.loads(_run(client, SUBJECT_IMAGE, ["python3", "-c", WEIGHTS_CHECK]))
    manifest = report["manifest"]
    assert manifest["files"], manifest
    assert report["found"] == manifest["files"]
    assert manifest["files"][0]["size"] > 20_000_000
    leftover = _run(client, SUBJECT_IMAGE, ["bash", "-c", "ls /tmp"])
    assert "make-weights" not in leftover


def test_failed_build_leaves_no_containers(
    client: docker.DockerClient, built: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = f"redline-failing-build-{uuid.uuid4().hex[:8]}"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text(
        f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN echo {marker} && exit 3\n"
    )
    monkeypatch.setattr(images.specs, "sandboxes_dir", lambda: tmp_path)
    spec = images.ImageSpec(name="redline-evals/test-broken:0", context_dir="broken")
    with pytest.raises(images.ImageBuildError, match="build failed") as failure:
        images.build._docker_build(
            client, spec, {"BASE_IMAGE": BASE_IMAGE}, {}, "none", False, lambda _: None
        )
    assert marker in str(failure.value)  # the failing step's output is in the error
    leftovers = [
        c for c in client.containers.list(all=True) if marker in " ".join(c.attrs["Args"] or [])
    ]
    assert leftovers == []


def test_failed_debootstrap_cleans_its_scratch_dir(
    client: docker.DockerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDLINE_BUILD_TMPDIR", str(tmp_path))
    monkeypatch.setenv(images.MIRROR_ENV, "http://127.0.0.1:9/debian")  # nothing listens
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = images.get_spec(BASE_IMAGE)
    expected = "debootstrap failed" if os.geteuid() == 0 else "needs root"
    with pytest.raises(images.ImageBuildError, match=expected):
        images.debootstrap.build_base_debootstrap(client, spec, "sha256:test", lambda _: None)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["cache"])
