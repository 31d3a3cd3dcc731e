"""Checks that this machine can build the images and run the tasks (`redline-evals doctor`).

Each check says what it found and, when something is missing, the exact command that fixes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import docker.errors
from pydantic import BaseModel, ConfigDict

from . import images

ENGINE_MIN = "24.0.6"
"""Oldest Docker Engine Inspect's Docker sandbox accepts."""

COMPOSE_MIN = "2.21.0"
"""Oldest Docker Compose (v2, `docker compose`) Inspect's Docker sandbox accepts."""

DISK_MIN_BYTES = 1_000_000_000
"""Below this much free space under Docker's data root, building or running is blocked."""

DISK_WARN_BYTES = 3_000_000_000
"""Below this much free space, doctor warns."""

SETUP_FIX = (
    "scripts/setup   (in a checkout; installs Docker Engine and Compose v2 on Debian/Ubuntu)"
)


class Check(BaseModel):
    """The outcome of one check."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    """The command (or action) that fixes a failed check."""
    blocking: bool = True
    """Whether a failure prevents running tasks (otherwise it is a warning)."""


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The leading `major.minor.patch` of a version string (`v2.26.1-4`, `26.1.5+dfsg1`)."""
    match = re.match(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def version_at_least(found: str | None, required: str) -> bool:
    """Whether version `found` is at least `required` (False when unknown or unparsable)."""
    have, need = parse_version(found or ""), parse_version(required)
    return have is not None and need is not None and have >= need


def engine_version(client: docker.DockerClient) -> str | None:
    """The Docker Engine's version, as the daemon reports it."""
    try:
        version = client.version().get("Version")
    except docker.errors.DockerException:
        return None
    return str(version) if version else None


def compose_version() -> str | None:
    """The version of Compose v2 (`docker compose`), None when it is missing."""
    try:
        result = subprocess.run(
            ["docker", "compose", "version", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        version = json.loads(result.stdout).get("version") if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return str(version) if version else None


def run_checks() -> list[Check]:
    """Run every check, in order; later checks are skipped when Docker is unreachable."""
    client, daemon = _daemon_check()
    checks = [daemon]
    if client is None:
        return checks
    checks.append(_engine_check(client))
    checks.append(_compose_check())
    try:
        images.requested_base_source()
    except ValueError as error:
        fix = f"unset {images.BASE_SOURCE_ENV} (or set it to debootstrap or registry)"
        return [*checks, Check(name=images.BASE_SOURCE_ENV, ok=False, detail=str(error), fix=fix)]
    statuses = images.image_status(client)
    base_needs_root = not statuses[0].up_to_date and images.requested_base_source() != "registry"
    checks += [_image_check(status, base_needs_root) for status in statuses]
    needs_build = not all(status.up_to_date for status in statuses)
    checks.append(_base_source_check(client, needs_build))
    checks.append(_disk_check(client, needs_build))
    return checks


def _daemon_check() -> tuple[docker.DockerClient | None, Check]:
    name = "Docker daemon"
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        if "Permission denied" in str(error) or "PermissionError" in str(error):
            fix = "sudo usermod -aG docker $USER   (then log out and in again), or run as root"
        elif shutil.which("docker") is None:
            fix = SETUP_FIX
        else:
            fix = "start the Docker daemon (e.g. sudo systemctl start docker), or " + SETUP_FIX
        return None, Check(name=name, ok=False, detail=f"not reachable: {error}", fix=fix)
    return client, Check(name=name, ok=True, detail=f"reachable (API {client.api.api_version})")


def _engine_check(client: docker.DockerClient) -> Check:
    found = engine_version(client)
    return Check(
        name="Docker Engine",
        ok=version_at_least(found, ENGINE_MIN),
        detail=f"{found or 'unknown version'} (need >= {ENGINE_MIN})",
        fix=SETUP_FIX,
    )


def _compose_check() -> Check:
    found = compose_version()
    detail = (
        f"{found} (need >= {COMPOSE_MIN})" if found else f"v2 not found (need >= {COMPOSE_MIN})"
    )
    if not found and shutil.which("docker-compose"):
        detail += "; docker-compose v1 does not count"
    return Check(
        name="Docker Compose",
        ok=version_at_least(found, COMPOSE_MIN),
        detail=detail,
        fix=SETUP_FIX,
    )


def _image_check(status: images.ImageStatus, needs_root: bool) -> Check:
    size = f", {status.size_bytes / 1e6:.0f} MB" if status.size_bytes else ""
    return Check(
        name=status.name,
        ok=status.up_to_date,
        detail=f"{status.reason}{size}",
        fix=_build_command(sudo=needs_root),
    )


def _base_source_check(client: docker.DockerClient, needs_build: bool) -> Check:
    """How the base would be built, and whether that can work here."""
    name = "base image source"
    env = images.BASE_SOURCE_ENV
    requested = images.requested_base_source()
    debootstrap = images.debootstrap_path()
    if requested == "registry":
        if images.registry_available(client):
            return Check(name=name, ok=True, detail=f"registry ({images.REGISTRY_BASE}), {env}")
        detail = f"{env}=registry, but no registry serves {images.REGISTRY_BASE}"
        return Check(name=name, ok=False, detail=detail, fix=f"unset {env}", blocking=needs_build)
    if debootstrap is not None:
        root = os.geteuid() == 0
        detail = f"debootstrap ({debootstrap}), offline"
        if not root:
            detail += "; building the base needs root"
        return Check(
            name=name, ok=root, detail=detail, fix=_build_command(sudo=True), blocking=needs_build
        )
    if requested is None and images.registry_available(client):
        return Check(name=name, ok=True, detail=f"registry ({images.REGISTRY_BASE})")
    detail = "debootstrap is not installed" + ("" if requested else " and no registry answers")
    return Check(
        name=name,
        ok=False,
        detail=detail,
        fix="apt-get install -y debootstrap debian-archive-keyring   (as root), or scripts/setup",
        blocking=needs_build,
    )


def _disk_check(client: docker.DockerClient, needs_build: bool) -> Check:
    name = "disk space"
    try:
        root = str(client.info().get("DockerRootDir") or "/var/lib/docker")
        free = shutil.disk_usage(root if os.path.exists(root) else "/").free
    except (docker.errors.DockerException, OSError) as error:
        return Check(name=name, ok=True, detail=f"not checked ({error})", blocking=False)
    detail = f"{free / 1e9:.1f} GB free for {root}"
    fix = f"free some space on the filesystem of {root}"
    if free < DISK_MIN_BYTES:
        return Check(name=name, ok=False, detail=detail + " (need >= 1 GB)", fix=fix)
    if needs_build and free < DISK_WARN_BYTES:
        return Check(name=name, ok=False, detail=detail + " (tight)", fix=fix, blocking=False)
    return Check(name=name, ok=True, detail=detail)


def _build_command(sudo: bool = False) -> str:
    """The build command as this user would type it (with sudo when root is needed)."""
    if not sudo or os.geteuid() == 0:
        return "redline-evals build"
    exe = Path(sys.argv[0])
    command = str(exe.absolute()) if exe.name == "redline-evals" else "$(command -v redline-evals)"
    return f"sudo -H {command} build"
