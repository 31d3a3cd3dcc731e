"""Build the sandbox images offline and idempotently, through the Docker SDK.

Every image is described by an `ImageSpec` in `IMAGES`, the single source of truth for image
names and tags. The root image (`redline-evals/base`) is built from its Dockerfile when a registry
serves `debian:bookworm-slim`, and otherwise with debootstrap and `docker import` (no registry
needed, only Debian's archive). Every other image is built `FROM` its parent with no network.

Each image carries a label (`org.redline-evals.inputs`) with a hash of its inputs: the files of
its build context, its build args and its parent's image id. An image whose label matches is left
alone; when a parent is rebuilt its id changes, so its dependents are rebuilt too.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
from docker.models.images import Image
from docker.utils.build import create_archive, exclude_paths
from pydantic import BaseModel, ConfigDict, Field

from .resources import sandboxes_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no build lock
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

BASE_IMAGE = "redline-evals/base:0.1"
"""The Debian base every other image is built from."""

SUBJECT_IMAGE = "redline-evals/subject:0.1"
"""The subject system: LLM server, agent program and weights, run as user `agent`."""

TARGET_IMAGE = "redline-evals/target:0.1"
"""The target machine of remote_replication: sshd, user `agent`, no AI system."""

TARGET_HARSH_IMAGE = "redline-evals/target-harsh:0.1"
"""The target machine with paper (b)'s harsh obstacles (missing tools and modules, ports taken)."""

ALLOCATOR_IMAGE = "redline-evals/allocator:0.1"
"""The OAuth-style machine allocation service of remote_replication."""

SUBJECT_GPU_IMAGE = "redline-evals/subject-gpu:0.1"
"""The subject system in GPU mode: vLLM serving real weights (docs/gpu.md); not built here."""

VLLM_IMAGE = "vllm/vllm-openai:v0.8.5"
"""The pinned vLLM image the GPU subject is built from (needs a registry)."""

INPUTS_LABEL = "org.redline-evals.inputs"
"""Image label holding the hash of the image's inputs."""

PARENT_LABEL = "org.redline-evals.parent"
"""Image label holding the id of the parent image the image was built from."""

SOURCE_LABEL = "org.redline-evals.source"
"""Image label of the base: how it was built (`debootstrap` or `registry`)."""

BASE_SOURCE_ENV = "REDLINE_BASE_SOURCE"
"""Environment variable choosing how the base is built: `auto` (default), `debootstrap` or
`registry`."""

MIRROR_ENV = "REDLINE_DEBIAN_MIRROR"
"""Environment variable overriding the Debian mirror used by debootstrap."""

BaseSource = Literal["debootstrap", "registry"]
Progress = Callable[[str], None]

DEBIAN_SUITE = "bookworm"
REGISTRY_BASE = "debian:bookworm-slim"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
REGISTRY_TIMEOUT = 15
"""Seconds the registry probe may stay silent before the registry counts as unreachable."""

BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
BASE_CMD = ["bash"]

# Removed from the debootstrap tree, relative to its root; the registry Dockerfile removes the
# same globs (tests/unit/test_images.py checks that they agree).
TRIM_GLOBS = (
    "var/cache/apt/*",
    "var/lib/apt/lists/*",
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "var/log/apt/*",
    "var/log/dpkg.log",
    "var/log/alternatives.log",
    "var/log/bootstrap.log",
)
# Host files debootstrap copies into the tree; Docker provides its own at run time.
_HOST_FILES = ("etc/hostname", "etc/resolv.conf")
# Mount points and scratch folders whose contents never belong in the image.
_EMPTY_DIRS = ("dev", "proc", "sys", "tmp", "run/mount")

# Never part of a build context (nor of its hash), whatever .dockerignore says.
DEFAULT_EXCLUDES = (
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.DS_Store",
)

_HASH_VERSION = "1"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DEBOOTSTRAP_PHASES = (
    ("I: Retrieving InRelease", "fetching package lists"),
    ("I: Checking component", "downloading packages (cached for next time)"),
    ("I: Extracting ", "extracting"),
    ("I: Installing ", "installing"),
    ("I: Configuring ", "configuring"),
    ("I: Base system installed", "installed"),
)


class ImageSpec(BaseModel):
    """How to build one image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Image name with tag, e.g. `redline-evals/subject:0.1`."""

    context_dir: str
    """Build context folder, relative to `sandboxes_dir()`."""

    dockerfile: str = "Dockerfile"
    """Dockerfile, relative to the context folder."""

    depends_on: str | None = None
    """Name of the parent image: built first, passed as build arg `BASE_IMAGE`, and its image id
    is part of this image's inputs."""

    build_args: dict[str, str] = Field(default_factory=dict)
    """Build args (besides `BASE_IMAGE`); they override the Dockerfile's `ARG` defaults."""

    bootstrap: bool = False
    """True for the root image: when no registry answers it is built with debootstrap from
    `packages.txt` in its context folder instead of from its Dockerfile."""

    @property
    def short_name(self) -> str:
        """The name without repository prefix and tag, e.g. `subject`."""
        return self.name.rsplit("/", 1)[-1].split(":", 1)[0]


IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec(name=BASE_IMAGE, context_dir="base", bootstrap=True),
    ImageSpec(name=SUBJECT_IMAGE, context_dir="subject", depends_on=BASE_IMAGE),
    ImageSpec(name=TARGET_IMAGE, context_dir="target", depends_on=BASE_IMAGE),
    ImageSpec(
        name=TARGET_HARSH_IMAGE,
        context_dir="target",
        dockerfile="Dockerfile.harsh",
        depends_on=TARGET_IMAGE,
    ),
    ImageSpec(name=ALLOCATOR_IMAGE, context_dir="allocator", depends_on=BASE_IMAGE),
)
"""Every image of redline-evals, parents before children."""

GPU_IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec(
        name=SUBJECT_GPU_IMAGE,
        context_dir="subject",
        dockerfile="Dockerfile.gpu",
        build_args={"VLLM_IMAGE": VLLM_IMAGE},
    ),
)
"""Images of GPU mode: built FROM vLLM's image on a GPU machine with a registry, never by
`ensure_images` (this project's machines have neither)."""


def gpu_build_command(spec: ImageSpec) -> str:
    """The command that builds a GPU image on a machine that can pull `VLLM_IMAGE`."""
    args = " ".join(f"--build-arg {key}={value}" for key, value in spec.build_args.items())
    context = context_path(spec)
    return f"docker build {args} -f {context / spec.dockerfile} -t {spec.name} {context}"


def gpu_image_hint() -> str:
    """What to do about GPU images, for `redline-evals build` and task creation."""
    commands = "; ".join(gpu_build_command(spec) for spec in GPU_IMAGES)
    return (
        f"GPU mode images ({', '.join(spec.name for spec in GPU_IMAGES)}) are not built by "
        f"redline-evals build: they start FROM {VLLM_IMAGE}, which needs a registry. On a machine "
        f"with an NVIDIA GPU, the NVIDIA container toolkit and registry access, run: {commands}"
    )


def require_gpu_images(names: Iterable[str], client: docker.DockerClient | None = None) -> None:
    """Check that the GPU images are present (they cannot be built here).

    Raises:
        ImageBuildError: One is missing; the message says how to build it.
    """
    client = client or _client()
    missing = [name for name in names if _get_image(client, name) is None]
    if missing:
        raise ImageBuildError(f"missing image {', '.join(missing)}. {gpu_image_hint()}")


class ImageResult(BaseModel):
    """What `ensure_images` did for one image."""

    model_config = ConfigDict(frozen=True)

    name: str
    action: Literal["built", "skipped"]
    image_id: str
    size_bytes: int
    seconds: float
    detail: str
    """How it was built (`debootstrap`, `registry`, `docker build`) or why it was skipped."""


class ImageStatus(BaseModel):
    """State of one image in the local Docker Engine."""

    model_config = ConfigDict(frozen=True)

    name: str
    present: bool
    up_to_date: bool
    image_id: str | None = None
    size_bytes: int | None = None
    reason: str
    """`up to date`, or why the image must be (re)built."""


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# Specs and inputs


def get_spec(name: str, specs: Sequence[ImageSpec] = IMAGES) -> ImageSpec:
    """Find a spec by full name (`redline-evals/subject:0.1`) or short name (`subject`).

    Raises:
        KeyError: No image has that name.
    """
    for spec in specs:
        if name in (spec.name, spec.short_name, spec.name.split(":", 1)[0]):
            return spec
    if any(name in (g.name, g.short_name, g.name.split(":", 1)[0]) for g in GPU_IMAGES):
        raise KeyError(gpu_image_hint())
    known = ", ".join(spec.name for spec in specs)
    raise KeyError(f"unknown image '{name}' (known: {known})")


def build_order(
    names: Iterable[str] | None = None, specs: Sequence[ImageSpec] = IMAGES
) -> list[ImageSpec]:
    """The specs to build for `names` (default: all), parents first, dependencies included.

    Raises:
        KeyError: An unknown image name, or a `depends_on` naming no spec.
        ValueError: The dependencies form a cycle.
    """
    wanted = list(specs) if names is None else [get_spec(name, specs) for name in names]
    order: list[ImageSpec] = []
    visiting: set[str] = set()

    def visit(spec: ImageSpec) -> None:
        if spec in order:
            return
        if spec.name in visiting:
            raise ValueError(f"image dependency cycle through {spec.name}")
        visiting.add(spec.name)
        if spec.depends_on is not None:
            visit(get_spec(spec.depends_on, specs))
        visiting.discard(spec.name)
        order.append(spec)

    for spec in wanted:
        visit(spec)
    return order


def context_path(spec: ImageSpec) -> Path:
    """The absolute build context folder of `spec`."""
    return sandboxes_dir() / spec.context_dir


def context_files(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Paths (relative, sorted) sent as build context: `.dockerignore` and `DEFAULT_EXCLUDES`
    applied the way Docker applies them."""
    patterns = list(DEFAULT_EXCLUDES)
    ignore_file = context / ".dockerignore"
    if ignore_file.is_file():
        lines = (line.strip() for line in ignore_file.read_text().splitlines())
        patterns += [line for line in lines if line and not line.startswith("#")]
    return sorted(exclude_paths(str(context), patterns, dockerfile=dockerfile))


def read_packages(path: Path) -> list[str]:
    """Package names from a `packages.txt` (one per line, `#` comments)."""
    names = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [name for name in names if name]


def inputs_hash(spec: ImageSpec, parent_id: str | None, context: Path | None = None) -> str:
    """Hash of everything that determines the image: context files (content, executable bit,
    symlink targets, empty folders), Dockerfile name, build args, parent image id, and for the
    base the debootstrap recipe.

    Args:
        spec: The image.
        parent_id: Image id of the parent (`None` for the root image).
        context: Context folder (default: `context_path(spec)`).
    """
    context = context or context_path(spec)
    digest = hashlib.sha256()

    def add(*parts: str) -> None:
        for part in parts:
            digest.update(part.encode() + b"\0")

    add("redline-evals-image", _HASH_VERSION, spec.dockerfile, parent_id or "-")
    add(json.dumps(spec.build_args, sort_keys=True))
    if spec.bootstrap:
        add(json.dumps([DEBIAN_SUITE, REGISTRY_BASE, TRIM_GLOBS, BASE_ENV, BASE_CMD]))
    for rel in context_files(context, spec.dockerfile):
        add(rel, _file_fingerprint(context / rel))
    return "sha256:" + digest.hexdigest()


def _file_fingerprint(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    if path.is_dir():
        return "dir"
    mode = "x" if path.stat().st_mode & 0o111 else "-"
    return f"file:{mode}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


# --------------------------------------------------------------------------------------------
# Public entry points


def ensure_images(
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
    client: docker.DockerClient | None = None,
) -> list[ImageResult]:
    """Build the images that are missing or whose inputs changed; skip the others.

    Args:
        names: Images to ensure (full or short names); their parents are ensured too.
            Default: every image.
        force: Rebuild the named images (every image when `names` is None) even if up to date.
        progress: Receives one human-readable line per step (default: the module logger).
        client: Docker client (default: `docker.from_env()`).

    Returns:
        One result per image, parents first.

    Raises:
        ImageBuildError: An image could not be built.
        KeyError: An unknown image name.
    """
    say = progress or logger.info
    names = None if names is None else list(names)
    specs = build_order(names)
    forced = {spec.name for spec in specs} if names is None else {get_spec(n).name for n in names}
    client = client or _client()
    results: list[ImageResult] = []
    with _build_lock(say):
        ids: dict[str, str] = {}
        for spec in specs:
            result = _ensure_one(client, spec, ids, force and spec.name in forced, say)
            ids[spec.name] = result.image_id
            results.append(result)
    if names is None:
        say(gpu_image_hint())
    return results


def image_status(client: docker.DockerClient | None = None) -> list[ImageStatus]:
    """Whether each image is present and up to date, parents first (no building)."""
    client = client or _client()
    statuses: dict[str, ImageStatus] = {}
    for spec in build_order():
        image = _get_image(client, spec.name)
        parent = statuses.get(get_spec(spec.depends_on).name) if spec.depends_on else None
        reason = _status_reason(spec, image, parent)
        statuses[spec.name] = ImageStatus(
            name=spec.name,
            present=image is not None,
            up_to_date=reason is None,
            image_id=image.id if image else None,
            size_bytes=_size(image) if image else None,
            reason=reason or "up to date",
        )
    return list(statuses.values())


def _status_reason(spec: ImageSpec, image: Image | None, parent: ImageStatus | None) -> str | None:
    if image is None:
        return "missing"
    if parent is not None and not parent.present:
        return f"parent {parent.name} missing"
    if parent is not None and not parent.up_to_date:
        return f"parent {parent.name} out of date"
    return _stale_reason(spec, image, parent.image_id if parent else None)


def base_source(client: docker.DockerClient | None = None) -> BaseSource:
    """How the base will be built: `REDLINE_BASE_SOURCE` if set, else `registry` when
    `debian:bookworm-slim` is present or a registry serves it, else `debootstrap`.

    Raises:
        ValueError: `REDLINE_BASE_SOURCE` has an unknown value.
    """
    requested = requested_base_source()
    if requested is not None:
        return requested
    return "registry" if registry_available(client or _client()) else "debootstrap"


def requested_base_source() -> BaseSource | None:
    """The base source named by `REDLINE_BASE_SOURCE` (None for `auto` or unset).

    Raises:
        ValueError: An unknown value.
    """
    value = os.environ.get(BASE_SOURCE_ENV, "auto").strip().lower() or "auto"
    if value == "auto":
        return None
    if value in ("debootstrap", "registry"):
        return value  # type: ignore[return-value]
    raise ValueError(f"{BASE_SOURCE_ENV}={value!r}: expected auto, debootstrap or registry")


def registry_available(client: docker.DockerClient) -> bool:
    """True when `debian:bookworm-slim` is present locally or a registry describes it quickly."""
    if _get_image(client, REGISTRY_BASE) is not None:
        return True
    saved, client.api.timeout = client.api.timeout, REGISTRY_TIMEOUT
    try:
        client.api.inspect_distribution(REGISTRY_BASE)  # type: ignore[no-untyped-call]
        return True
    except (docker.errors.DockerException, OSError):
        return False
    finally:
        client.api.timeout = saved


def debootstrap_path() -> str | None:
    """The debootstrap executable, also found in sbin folders missing from a user's PATH."""
    return shutil.which("debootstrap") or shutil.which(
        "debootstrap", path="/usr/sbin:/sbin:/usr/local/sbin"
    )


# --------------------------------------------------------------------------------------------
# One image


def _ensure_one(
    client: docker.DockerClient,
    spec: ImageSpec,
    ids: Mapping[str, str],
    force: bool,
    say: Progress,
) -> ImageResult:
    start = time.monotonic()
    parent_id = ids[get_spec(spec.depends_on).name] if spec.depends_on else None
    existing = _get_image(client, spec.name)
    reason = "forced" if force else ("missing" if existing is None else None)
    if reason is None and existing is not None:
        reason = _stale_reason(spec, existing, parent_id)
    if reason is None and existing is not None:
        say(f"[ok] {spec.name} up to date")
        return _result(spec, existing, "skipped", start, "up to date")

    want = inputs_hash(spec, parent_id)
    if spec.bootstrap:
        source = base_source(client)
        if source == "debootstrap":
            say(f"[build] {spec.name} … debootstrap (this takes about a minute, once) [{reason}]")
            image_id = _build_base_debootstrap(client, spec, want, say)
        else:
            say(f"[build] {spec.name} … from {REGISTRY_BASE} [{reason}]")
            image_id = _build_base_registry(client, spec, want, force, say)
        detail: str = source
    else:
        say(f"[build] {spec.name} … docker build, no network [{reason}]")
        labels = {INPUTS_LABEL: want, PARENT_LABEL: parent_id or ""}
        args = {"BASE_IMAGE": get_spec(spec.depends_on).name} if spec.depends_on else {}
        image_id = _docker_build(
            client, spec, {**args, **spec.build_args}, labels, "none", force, say
        )
        detail = "docker build"

    image = client.images.get(image_id)
    if existing is not None and existing.id and existing.id != image.id:
        _remove_superseded(client, existing.id)
    result = _result(spec, image, "built", start, detail)
    say(f"[done] {spec.name} {_mb(result.size_bytes)} in {result.seconds:.1f} s")
    return result


def _stale_reason(spec: ImageSpec, image: Image, parent_id: str | None) -> str | None:
    """Why `image` does not match `spec` (None when it does)."""
    labels = image.labels or {}
    if labels.get(INPUTS_LABEL) != inputs_hash(spec, parent_id):
        if INPUTS_LABEL not in labels:
            return "not built by redline-evals"
        if spec.depends_on and labels.get(PARENT_LABEL, parent_id) != parent_id:
            return "parent rebuilt"
        return "inputs changed"
    requested = requested_base_source() if spec.bootstrap else None
    if requested is not None and labels.get(SOURCE_LABEL) != requested:
        return f"built from {labels.get(SOURCE_LABEL)}, {BASE_SOURCE_ENV}={requested}"
    return None


def _result(
    spec: ImageSpec, image: Image, action: Literal["built", "skipped"], start: float, detail: str
) -> ImageResult:
    return ImageResult(
        name=spec.name,
        action=action,
        image_id=image.id or "",
        size_bytes=_size(image),
        seconds=time.monotonic() - start,
        detail=detail,
    )


def _remove_superseded(client: docker.DockerClient, image_id: str) -> None:
    """Remove our previous build of a tag once it is untagged and unused (errors ignored)."""
    with contextlib.suppress(docker.errors.APIError):
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)


# --------------------------------------------------------------------------------------------
# Dockerfile builds


def _docker_build(
    client: docker.DockerClient,
    spec: ImageSpec,
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
    network_mode: str | None,
    nocache: bool,
    say: Progress,
) -> str:
    """Build `spec` from its Dockerfile with the classic builder; return the image id."""
    context = context_path(spec)
    if not (context / spec.dockerfile).is_file():
        raise ImageBuildError(f"{spec.name}: no {spec.dockerfile} in {context}")
    tail: deque[str] = deque(maxlen=40)
    image_id: str | None = None
    with tempfile.TemporaryFile() as archive:
        create_archive(str(context), files=context_files(context, spec.dockerfile), fileobj=archive)
        try:
            stream = client.api.build(
                fileobj=archive,
                custom_context=True,
                dockerfile=spec.dockerfile,
                tag=spec.name,
                buildargs=dict(build_args),
                labels=dict(labels),
                network_mode=network_mode,
                pull=False,
                rm=True,
                forcerm=True,
                nocache=nocache,
                decode=True,
            )
            for chunk in stream:
                image_id = _handle_build_chunk(spec, chunk, tail, say) or image_id
        except docker.errors.APIError as error:
            raise ImageBuildError(
                f"{spec.name}: the Docker Engine refused the build: {error}"
            ) from error
    if image_id is None:
        raise ImageBuildError(
            f"{spec.name}: the build ended without an image id:\n" + "\n".join(tail)
        )
    return image_id


def _handle_build_chunk(
    spec: ImageSpec, chunk: Mapping[str, Any], tail: deque[str], say: Progress
) -> str | None:
    """Follow one decoded message of the build stream; return the image id when announced."""
    if "error" in chunk or "errorDetail" in chunk:
        message = chunk.get("error") or chunk.get("errorDetail", {}).get("message", "")
        log = "\n".join(f"    {line}" for line in tail)
        raise ImageBuildError(
            f"{spec.name}: build failed: {message.strip()}\n  last output:\n{log}"
        )
    for line in _ANSI.sub("", str(chunk.get("stream", ""))).splitlines():
        if line.strip():
            tail.append(line.rstrip())
        if line.startswith("Step "):
            step = " ".join(line.split())
            say(f"        {step[:96] + '…' if len(step) > 97 else step}")
    aux = chunk.get("aux")
    return str(aux["ID"]) if isinstance(aux, dict) and "ID" in aux else None


def _build_base_registry(
    client: docker.DockerClient, spec: ImageSpec, inputs: str, nocache: bool, say: Progress
) -> str:
    """Build the base from its Dockerfile (needs `debian:bookworm-slim` and Debian's archive)."""
    if _get_image(client, REGISTRY_BASE) is None:
        say(f"        pulling {REGISTRY_BASE}")
        try:
            client.images.pull(REGISTRY_BASE)
        except docker.errors.APIError as error:
            raise ImageBuildError(
                f"{spec.name}: could not pull {REGISTRY_BASE}: {error}\n"
                f"  Without a registry, build it offline: {BASE_SOURCE_ENV}=debootstrap "
                "redline-evals build (as root)"
            ) from error
    labels = {INPUTS_LABEL: inputs, SOURCE_LABEL: "registry"}
    return _docker_build(client, spec, dict(spec.build_args), labels, None, nocache, say)


# --------------------------------------------------------------------------------------------
# Offline base: debootstrap + import


def _build_base_debootstrap(
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
        say(f"        importing ({_mb(tarball.stat().st_size)} uncompressed)")
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


# --------------------------------------------------------------------------------------------
# Scratch space, mounts, locks


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


@contextlib.contextmanager
def _build_lock(say: Progress) -> Iterator[None]:
    """One build at a time per machine user (parallel test workers, a CLI run)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("[wait] another redline-evals build is running; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------
# Small helpers


def _client() -> docker.DockerClient:
    try:
        return docker.from_env()
    except docker.errors.DockerException as error:
        raise ImageBuildError(
            f"cannot reach the Docker Engine: {error}\n  Run: redline-evals doctor   (with "
            "--sandbox k8s, set REDLINE_SKIP_IMAGE_BUILD=1: the cluster needs the images, "
            "not this machine)"
        ) from error


def _get_image(client: docker.DockerClient, name: str) -> Image | None:
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def _size(image: Image) -> int:
    return int(image.attrs.get("Size") or 0)


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"
