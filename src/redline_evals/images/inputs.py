"""What determines an image: the files of its build context, its build args, its parent's id
and, for the base, the debootstrap recipe. An image labelled with the hash of its inputs is up to
date."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from docker.utils.build import exclude_paths

from .specs import (
    BASE_CMD,
    BASE_ENV,
    DEBIAN_SUITE,
    REGISTRY_BASE,
    TRIM_GLOBS,
    ImageSpec,
    context_path,
)

# Never part of a build context (nor of its hash), whatever .dockerignore says.
DEFAULT_EXCLUDES = (
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.DS_Store",
)

_HASH_VERSION = "1"


def context_files(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Paths (relative, sorted) sent as build context: `.dockerignore` and `DEFAULT_EXCLUDES`
    applied the way Docker applies them."""
    patterns = list(DEFAULT_EXCLUDES)
    ignore_file = context / ".dockerignore"
    if ignore_file.is_file():
        lines = (line.strip() for line in ignore_file.read_text().splitlines())
        patterns += [line for line in lines if line and not line.startswith("#")]
    return sorted(exclude_paths(str(context), patterns, dockerfile=dockerfile))


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
