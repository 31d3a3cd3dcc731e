"""The offline base image: a Debian tree made with debootstrap from Debian's archive, trimmed,
and imported with `docker import` (no registry needed)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

import docker
import docker.errors

from .engine import megabytes
from .specs import (
    BASE_CMD,
    BASE_ENV,
    BASE_SOURCE_ENV,
    DEBIAN_SUITE,
    DEFAULT_MIRROR,
    INPUTS_LABEL,
    MIRROR_ENV,
    REGISTRY_BASE,
    SOURCE_LABEL,
    TRIM_GLOBS,
    ImageBuildError,
    ImageSpec,
    Progress,
    context_path,
    read_packages,
)

# Host files debootstrap copies into the tree; Docker provides its own at run time.
_HOST_FILES = ("etc/hostname", "etc/resolv.conf")
# Mount points and scratch folders whose contents never belong in the image.
_EMPTY_DIRS = ("dev", "proc", "sys", "tmp", "run/mount")


_DEBOOTSTRAP_PHASES = (
    ("I: Retrieving InRelease", "fetching package lists"),
    ("I: Checking component", "downloading packages (cached for next time)"),
    ("I: Extracting ", "extracting"),
    ("I: Installing ", "installing"),
    ("I: Configuring ", "configuring"),
    ("I: Base system installed", "installed"),
)


def build_base_debootstrap(
    client: docker.DockerClient, spec: ImageSpec, inputs: str, say: Progress
) -> str:
    """Build the base with debootstrap into a temporary folder and import it; return its id."""
    debootstrap = _require_debootstrap()
    packages = read_packages(context_path(spec) / "packages.txt")
    cache = cache_dir() / "debootstrap"
    cache.mkdir(parents=True, exist_ok=True)
    with _scratch_dir() as scratch:
        rootfs = scratch / "rootfs"
        _run_debootstrap(debootstrap, packages, rootfs, cache, say)
        _release_mounts(rootfs)
        trim_rootfs(rootfs)
        say("        packing the tree")
        tarball = scratch / "rootfs.tar"
        write_rootfs_tar(rootfs, tarball)
        say(f"        importing ({megabytes(tarball.stat().st_size)} uncompressed)")
        return _import_rootfs(client, spec, tarball, inputs)


def _require_debootstrap() -> str:
    if os.geteuid() != 0:
        raise ImageBuildError(
            "building the base image offline runs debootstrap, which needs root.\n"
            "  Run: sudo .venv/bin/redline-evals build   (or scripts/setup as root)\n"
            f"  Or, where a registry serves {REGISTRY_BASE}: {BASE_SOURCE_ENV}=registry "
            "redline-evals build"
        )
    path = debootstrap_path()
    if path is None:
        raise ImageBuildError(
            "debootstrap is not installed (needed to build the base image without a registry).\n"
            "  Run: apt-get install -y debootstrap debian-archive-keyring   (or scripts/setup)"
        )
    return path


def _run_debootstrap(
    debootstrap: str, packages: Sequence[str], rootfs: Path, cache: Path, say: Progress
) -> None:
    mirror = os.environ.get(MIRROR_ENV, DEFAULT_MIRROR)
    cmd = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(packages)}",
        f"--cache-dir={cache}",
        DEBIAN_SUITE,
        str(rootfs),
        mirror,
    ]
    env = {**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    tail: deque[str] = deque(maxlen=30)
    phases = iter(_DEBOOTSTRAP_PHASES)
    next_phase = next(phases, None)
    start = time.monotonic()
    with subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            while next_phase is not None and line.startswith(next_phase[0]):
                say(f"        {next_phase[1]} ({time.monotonic() - start:.0f} s)")
                next_phase = next(phases, None)
    if proc.returncode != 0:
        log = "\n".join(f"    {line}" for line in tail)
        raise ImageBuildError(
            f"debootstrap failed (exit {proc.returncode}) using mirror {mirror}:\n{log}\n"
            f"  Check that {mirror} is reachable (set {MIRROR_ENV} to use another mirror)."
        )


def trim_rootfs(rootfs: Path) -> None:
    """Remove caches, docs and host leftovers from a debootstrap tree (in place)."""
    for pattern in TRIM_GLOBS:
        for found in glob.glob(str(rootfs / pattern)):
            _remove(Path(found))
    for rel in _EMPTY_DIRS:
        folder = rootfs / rel
        if folder.is_dir() and not folder.is_symlink():
            for child in folder.iterdir():
                _remove(child)
    for rel in _HOST_FILES:
        target = rootfs / rel
        if target.is_symlink():
            target.unlink()
        target.write_text("")


def write_rootfs_tar(rootfs: Path, tarball: Path) -> None:
    """Pack a root filesystem with numeric owners only (no host user names)."""

    def strip_names(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uname = info.gname = ""
        return info

    with tarfile.open(tarball, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(rootfs)):
            tar.add(rootfs / entry, arcname=entry, filter=strip_names)


def _import_rootfs(client: docker.DockerClient, spec: ImageSpec, tarball: Path, inputs: str) -> str:
    repository, tag = spec.name.rsplit(":", 1)
    changes = [f"ENV {key}={value}" for key, value in BASE_ENV.items()]
    changes += [
        f"CMD {json.dumps(BASE_CMD)}",
        f"LABEL {INPUTS_LABEL}={inputs}",
        f"LABEL {SOURCE_LABEL}=debootstrap",
    ]
    try:
        reply = client.api.import_image_from_file(
            str(tarball), repository=repository, tag=tag, changes=changes
        )
    except docker.errors.APIError as error:
        raise ImageBuildError(f"{spec.name}: docker import failed: {error}") from error
    image_id = None
    for line in str(reply).splitlines():
        message = json.loads(line) if line.strip().startswith("{") else {}
        if "error" in message or "errorDetail" in message:
            raise ImageBuildError(f"{spec.name}: docker import failed: {message}")
        status = message.get("status", "")
        if isinstance(status, str) and status.startswith("sha256:"):
            image_id = status
    return image_id or client.images.get(spec.name).id or ""


def cache_dir() -> Path:
    """`~/.cache/redline-evals` (or under `$XDG_CACHE_HOME`)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(root) / "redline-evals"


@contextlib.contextmanager
def _scratch_dir() -> Iterator[Path]:
    """A temporary folder on disk (not tmpfs: the tree is a few hundred MB), always removed."""
    parent = os.environ.get("REDLINE_BUILD_TMPDIR") or (
        "/var/tmp" if os.path.isdir("/var/tmp") else None
    )
    path = Path(tempfile.mkdtemp(prefix="redline-base-", dir=parent))
    try:
        yield path
    finally:
        _release_mounts(path)
        shutil.rmtree(path, ignore_errors=True)


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first."""
    prefix = str(path.resolve())
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _release_mounts(path: Path) -> None:
    """Unmount whatever debootstrap left mounted (proc, sys, a bound /dev) under `path`.

    Removing the tree while the host's /dev is bound inside it would delete host device nodes,
    so refuse to continue when something stays mounted.
    """
    if not os.path.exists("/proc/self/mountinfo"):
        return
    for point in _mounts_under(path):
        subprocess.run(["umount", "--lazy", point], check=False, capture_output=True)
    left = _mounts_under(path)
    if left:
        raise ImageBuildError(f"could not unmount {', '.join(left)}; remove them by hand")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def debootstrap_path() -> str | None:
    """The debootstrap executable, also found in sbin folders missing from a user's PATH."""
    return shutil.which("debootstrap") or shutil.which(
        "debootstrap", path="/usr/sbin:/sbin:/usr/local/sbin"
    )
