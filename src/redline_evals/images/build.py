"""Building the images through the Docker SDK, offline and idempotently: parents first, each
image skipped when its inputs label matches, one build at a time per machine (a file lock)."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
import yaml
from docker.models.images import Image
from docker.utils.build import create_archive

from .debootstrap import build_base_debootstrap, cache_dir
from .engine import ANSI, docker_client, get_image, image_size, megabytes
from .inputs import context_files, inputs_hash
from .specs import (
    BASE_SOURCE_ENV,
    IMAGES,
    INPUTS_LABEL,
    PARENT_LABEL,
    REGISTRY_BASE,
    REGISTRY_TIMEOUT,
    SOURCE_LABEL,
    BaseSource,
    ImageBuildError,
    ImageResult,
    ImageSpec,
    ImageStatus,
    Progress,
    build_order,
    context_path,
    get_spec,
    gpu_image_hint,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no build lock
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


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
    client = client or docker_client()
    results: list[ImageResult] = []
    with build_lock(say):
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
    client = client or docker_client()
    statuses: dict[str, ImageStatus] = {}
    for spec in build_order():
        image = get_image(client, spec.name)
        parent = statuses.get(get_spec(spec.depends_on).name) if spec.depends_on else None
        reason = _status_reason(spec, image, parent)
        statuses[spec.name] = ImageStatus(
            name=spec.name,
            present=image is not None,
            up_to_date=reason is None,
            image_id=image.id if image else None,
            size_bytes=image_size(image) if image else None,
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
    return "registry" if registry_available(client or docker_client()) else "debootstrap"


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
    if get_image(client, REGISTRY_BASE) is not None:
        return True
    saved, client.api.timeout = client.api.timeout, REGISTRY_TIMEOUT
    try:
        client.api.inspect_distribution(REGISTRY_BASE)  # type: ignore[no-untyped-call]
        return True
    except (docker.errors.DockerException, OSError):
        return False
    finally:
        client.api.timeout = saved


def _ensure_one(
    client: docker.DockerClient,
    spec: ImageSpec,
    ids: Mapping[str, str],
    force: bool,
    say: Progress,
) -> ImageResult:
    start = time.monotonic()
    parent_id = ids[get_spec(spec.depends_on).name] if spec.depends_on else None
    existing = get_image(client, spec.name)
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
            image_id = build_base_debootstrap(client, spec, want, say)
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
    say(f"[done] {spec.name} {megabytes(result.size_bytes)} in {result.seconds:.1f} s")
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
        size_bytes=image_size(image),
        seconds=time.monotonic() - start,
        detail=detail,
    )


def _remove_superseded(client: docker.DockerClient, image_id: str) -> None:
    """Remove our previous build of a tag once it is untagged and unused (errors ignored)."""
    with contextlib.suppress(docker.errors.APIError):
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)


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
    for line in ANSI.sub("", str(chunk.get("stream", ""))).splitlines():
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
    if get_image(client, REGISTRY_BASE) is None:
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


def require_gpu_images(names: Iterable[str], client: docker.DockerClient | None = None) -> None:
    """Check that the GPU images are present (they cannot be built here).

    Raises:
        ImageBuildError: One is missing; the message says how to build it.
    """
    client = client or docker_client()
    missing = [name for name in names if get_image(client, name) is None]
    if missing:
        raise ImageBuildError(f"missing image {', '.join(missing)}. {gpu_image_hint()}")


@contextlib.contextmanager
def build_lock(say: Progress) -> Iterator[None]:
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


def compose_images(compose_file: str | Path) -> list[str]:
    """Image names a compose file uses."""
    services = (yaml.safe_load(Path(compose_file).read_text()) or {}).get("services", {})
    return sorted({s["image"] for s in services.values() if isinstance(s, dict) and "image" in s})


def ensure_for_compose(
    compose_file: str | Path, progress: Progress | None = None
) -> list[ImageResult]:
    """Build the images a compose file needs (those up to date are kept); GPU images, which
    cannot be built here, must be present.

    Raises:
        ImageBuildError: An image cannot be built, or a GPU image is missing (with the command
            that builds it).
    """
    names = compose_images(compose_file)
    ours = {spec.name for spec in IMAGES}
    if gpu := [name for name in names if name not in ours]:
        require_gpu_images(gpu)
    return ensure_images([name for name in names if name in ours], progress=progress)
