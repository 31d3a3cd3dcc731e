"""The images of redline-evals (the single source of truth for their names and tags) and how
each one is built: its context folder, Dockerfile, parent and build args."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..resources import sandboxes_dir

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


def read_packages(path: Path) -> list[str]:
    """Package names from a `packages.txt` (one per line, `#` comments)."""
    names = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [name for name in names if name]


def gpu_image_hint() -> str:
    """What to do about GPU images, for `redline-evals build` and task creation."""
    commands = "; ".join(gpu_build_command(spec) for spec in GPU_IMAGES)
    return (
        f"GPU mode images ({', '.join(spec.name for spec in GPU_IMAGES)}) are not built by "
        f"redline-evals build: they start FROM {VLLM_IMAGE}, which needs a registry. On a machine "
        f"with an NVIDIA GPU, the NVIDIA container toolkit and registry access, run: {commands}"
    )
