"""Image sizes, warm builds and (only when asked) cold builds of the project's images."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from redline_evals import images

from .figures import Figure

MB = 1e6
SECTION = "Images and builds"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def image_figures(client: docker.DockerClient, notes: list[str]) -> list[Figure]:
    """Sizes as the Engine reports them (each includes its parent's layers), and the disk
    footprint of base + subject: base's layers plus the layers subject adds on top of them."""
    status = {s.name: s for s in images.image_status(client)}
    own: dict[str, float] = {}
    figures = []
    for spec in images.IMAGES:
        size = status[spec.name].size_bytes
        if size is None:
            notes.append(f"{spec.name} is missing: run `redline-evals build`")
            continue
        parent = (status[spec.depends_on].size_bytes or 0) if spec.depends_on else 0
        own[spec.name] = (size - parent) / MB
        label = f"image {spec.name} (own layers {own[spec.name]:.1f} MB)"
        figures.append(Figure(SECTION, label, "MB", [size / MB], exact=True))
    if images.BASE_IMAGE in own and images.SUBJECT_IMAGE in own:
        total = own[images.BASE_IMAGE] + own[images.SUBJECT_IMAGE]
        figures.append(
            Figure(SECTION, "base + subject on disk", "MB", [total], target=200, exact=True)
        )
    stale = [f"{s.name} ({s.reason})" for s in status.values() if not s.up_to_date]
    if stale:
        notes.append("images not up to date when sized: " + ", ".join(stale))
    return figures


def warm_builds(runs: int, notes: list[str]) -> list[Figure]:
    """`redline-evals build` (a fresh process, as users run it) and `ensure_images()` (in
    process) when every image is up to date: both should only check labels and hashes."""
    built = [r.name for r in images.ensure_images(progress=say) if r.action == "built"]
    if built:
        notes.append(f"warm-up (untimed) had to build: {', '.join(built)}")
    command = [str(Path(sys.executable).with_name("redline-evals")), "build"]
    say(f"[warm] {runs} x `redline-evals build`, {runs} x ensure_images()")
    cli = [
        timed(lambda: subprocess.run(command, check=True, capture_output=True)) for _ in range(runs)
    ]
    api = []
    for _ in range(runs):
        start = time.monotonic()
        results = images.ensure_images(progress=lambda _: None)
        api.append(time.monotonic() - start)
        if any(r.action == "built" for r in results):
            notes.append("a warm ensure_images() run built something (inputs changed?)")
    return [
        Figure(SECTION, "warm build: `redline-evals build`", "s", cli, target=5),
        Figure(SECTION, "warm build: ensure_images()", "s", api, target=5),
    ]


def containers_using_our_images(client: docker.DockerClient) -> list[str]:
    ids = {s.image_id for s in images.image_status(client) if s.image_id}
    return [
        f"{c.name} ({c.attrs['Config']['Image']}, {c.status})"
        for c in client.containers.list(all=True)
        if c.attrs.get("Image") in ids
    ]


def refuse_cold(client: docker.DockerClient) -> str | None:
    """Why `--cold` must not remove our images now (None when it may)."""
    users = containers_using_our_images(client)
    if users:
        return (
            "refusing --cold: these containers use redline-evals images, which it would have "
            "to remove:\n  " + "\n  ".join(users) + "\nStop them (or wait for those evals to "
            "finish) and run it again."
        )
    if images.base_source(client) == "debootstrap" and os.geteuid() != 0:
        return "refusing --cold: the base is built with debootstrap, which needs root (sudo)."
    return None


def cold_builds(client: docker.DockerClient, runs: int, notes: list[str]) -> list[Figure]:
    """Each run removes the images of `images.IMAGES` (ours only, children first; nothing
    else) and times `ensure_images(["subject"])`, which rebuilds base and subject; the other
    images are rebuilt after the last run, untimed."""
    cache = images.cache_dir() / "debootstrap"
    warm_before = any(cache.glob("*.deb"))
    base, subject, total = [], [], []
    try:
        for run in range(1, runs + 1):
            reason = refuse_cold(client)
            if reason:
                raise SystemExit(reason)
            say(f"[cold {run}/{runs}] removing our images and rebuilding base + subject")
            for spec in reversed(images.IMAGES):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    client.images.remove(spec.name)
            start = time.monotonic()
            results = images.ensure_images([images.SUBJECT_IMAGE], progress=say)
            total.append(time.monotonic() - start)
            by_name = {r.name: r.seconds for r in results}
            base.append(by_name[images.BASE_IMAGE])
            subject.append(by_name[images.SUBJECT_IMAGE])
    finally:
        say("[cold] rebuilding the other images (untimed)")
        images.ensure_images(progress=say)
    notes.append(
        f"cold builds: the debootstrap .deb cache ({cache}) was "
        f"{'already warm' if warm_before else 'empty'} before run 1 and is warm after it, "
        "so later runs download no packages (Debian's package lists are still fetched)."
    )
    return [
        Figure(SECTION, "cold build: base", "s", base),
        Figure(SECTION, "cold build: subject", "s", subject),
        Figure(SECTION, "cold build: base + subject", "s", total),
    ]
