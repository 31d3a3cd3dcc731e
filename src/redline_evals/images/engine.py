"""The Docker Engine client, and small helpers about images."""

from __future__ import annotations

import re

import docker
import docker.errors
from docker.models.images import Image

from .specs import ImageBuildError

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def docker_client() -> docker.DockerClient:
    try:
        return docker.from_env()
    except docker.errors.DockerException as error:
        raise ImageBuildError(
            f"cannot reach the Docker Engine: {error}\n  Run: redline-evals doctor   (with "
            "--sandbox k8s, set REDLINE_SKIP_IMAGE_BUILD=1: the cluster needs the images, "
            "not this machine)"
        ) from error


def get_image(client: docker.DockerClient, name: str) -> Image | None:
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def image_size(image: Image) -> int:
    return int(image.attrs.get("Size") or 0)


def megabytes(size: int) -> str:
    return f"{size / 1e6:.0f} MB"
