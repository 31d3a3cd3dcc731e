"""Build the sandbox images offline and idempotently, through the Docker SDK.

Every image is described by an `ImageSpec` in `IMAGES` (`specs.py`), the single source of truth
for image names and tags. The root image (`redline-evals/base`) is built from its Dockerfile when
a registry serves `debian:bookworm-slim`, and otherwise with debootstrap and `docker import`
(`debootstrap.py`: no registry needed, only Debian's archive). Every other image is built `FROM`
its parent with no network (`build.py`). Each image carries a label with a hash of its inputs
(`inputs.py`): an image whose label matches is left alone; when a parent is rebuilt its id
changes, so its dependents are rebuilt too.
"""

from .build import (
    base_source,
    compose_images,
    ensure_for_compose,
    ensure_images,
    image_status,
    registry_available,
    requested_base_source,
    require_gpu_images,
)
from .debootstrap import cache_dir, debootstrap_path, trim_rootfs, write_rootfs_tar
from .inputs import context_files, inputs_hash
from .specs import (
    ALLOCATOR_IMAGE,
    BASE_ENV,
    BASE_IMAGE,
    BASE_SOURCE_ENV,
    GPU_IMAGES,
    IMAGES,
    INPUTS_LABEL,
    MIRROR_ENV,
    REGISTRY_BASE,
    SOURCE_LABEL,
    SUBJECT_GPU_IMAGE,
    SUBJECT_IMAGE,
    TARGET_HARSH_IMAGE,
    TARGET_IMAGE,
    TRIM_GLOBS,
    VLLM_IMAGE,
    ImageBuildError,
    ImageResult,
    ImageSpec,
    ImageStatus,
    build_order,
    context_path,
    get_spec,
    gpu_build_command,
    gpu_image_hint,
    read_packages,
)

__all__ = [
    "ALLOCATOR_IMAGE",
    "BASE_ENV",
    "BASE_IMAGE",
    "BASE_SOURCE_ENV",
    "GPU_IMAGES",
    "IMAGES",
    "INPUTS_LABEL",
    "MIRROR_ENV",
    "REGISTRY_BASE",
    "SOURCE_LABEL",
    "SUBJECT_GPU_IMAGE",
    "SUBJECT_IMAGE",
    "TARGET_HARSH_IMAGE",
    "TARGET_IMAGE",
    "TRIM_GLOBS",
    "VLLM_IMAGE",
    "ImageBuildError",
    "ImageResult",
    "ImageSpec",
    "ImageStatus",
    "base_source",
    "build_order",
    "cache_dir",
    "compose_images",
    "context_files",
    "context_path",
    "debootstrap_path",
    "ensure_for_compose",
    "ensure_images",
    "get_spec",
    "gpu_build_command",
    "gpu_image_hint",
    "image_status",
    "inputs_hash",
    "read_packages",
    "registry_available",
    "requested_base_source",
    "require_gpu_images",
    "trim_rootfs",
    "write_rootfs_tar",
]
