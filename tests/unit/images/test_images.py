"""Image specs, input hashing and build decisions, without Docker."""

from __future__ import annotations

import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from redline_evals import doctor, images
from redline_evals.images import BASE_IMAGE, IMAGES, SUBJECT_IMAGE, ImageSpec
from redline_evals.resources import sandboxes_dir

# --------------------------------------------------------------------------------------------
# Specs


def test_image_names_are_unique_and_parents_resolve() -> None:
    names = [spec.name for spec in IMAGES]
    assert len(names) == len(set(names))
    assert {BASE_IMAGE, SUBJECT_IMAGE} <= set(names)
    for spec in IMAGES:
        if spec.depends_on:
            assert images.get_spec(spec.depends_on) in IMAGES
    assert [spec for spec in IMAGES if spec.bootstrap] == [images.get_spec(BASE_IMAGE)]


def test_every_recipe_exists() -> None:
    for spec in IMAGES:
        assert (sandboxes_dir() / spec.context_dir / spec.dockerfile).is_file(), spec.name
    assert (sandboxes_dir() / "base" / "packages.txt").is_file()


def test_subject_dockerfile_defaults_to_the_base_constant() -> None:
    text = (sandboxes_dir() / "subject" / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={BASE_IMAGE}" in text
    assert "FROM ${BASE_IMAGE}" in text


def test_get_spec_accepts_full_short_and_untagged_names() -> None:
    subject = images.get_spec(SUBJECT_IMAGE)
    assert images.get_spec("subject") is subject
    assert images.get_spec("redline-evals/subject") is subject
    with pytest.raises(KeyError, match="unknown image 'nope'"):
        images.get_spec("nope")


def test_spec_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError):
        ImageSpec(name="x:1", context_dir="x", depend_on="y")  # type: ignore[call-arg]


ALL = [spec.name for spec in images.IMAGES]
"""Every image, parents first (the order of `IMAGES`)."""


def test_build_order_puts_parents_first_and_adds_them() -> None:
    assert [s.name for s in images.build_order()] == ALL
    assert ALL[0] == BASE_IMAGE
    assert [s.name for s in images.build_order(["subject"])] == [BASE_IMAGE, SUBJECT_IMAGE]
    assert [s.name for s in images.build_order(["base"])] == [BASE_IMAGE]


def test_build_order_handles_chains_and_cycles() -> None:
    a = ImageSpec(name="t/a:1", context_dir="a", bootstrap=True)
    b = ImageSpec(name="t/b:1", context_dir="b", depends_on="t/a:1")
    c = ImageSpec(name="t/c:1", context_dir="c", depends_on="b")
    assert [s.short_name for s in images.build_order(["c", "a"], [c, b, a])] == ["a", "b", "c"]
    x = ImageSpec(name="t/x:1", context_dir="x", depends_on="y")
    y = ImageSpec(name="t/y:1", context_dir="y", depends_on="x")
    with pytest.raises(ValueError, match="cycle"):
        images.build_order(None, [x, y])


# --------------------------------------------------------------------------------------------
# Input hashing


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "project" / "logs").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY project/ /p/\n")
    (ctx / "project" / "app.py").write_text("print('hi')\n")
    (ctx / "run.sh").write_text("#!/bin/sh\n")
    return ctx


SPEC = ImageSpec(name="t/ctx:1", context_dir="ctx", depends_on="t/base:1")


def _hash(ctx: Path, parent: str | None = "sha256:parent", spec: ImageSpec = SPEC) -> str:
    return images.inputs_hash(spec, parent, ctx)


def test_hash_is_stable_and_ignores_mtimes(context: Path) -> None:
    before = _hash(context)
    os.utime(context / "project" / "app.py", (0, 0))
    assert _hash(context) == before


def test_hash_changes_when_a_recipe_file_changes(context: Path) -> None:
    before = _hash(context)
    (context / "project" / "app.py").write_text("print('bye')\n")
    assert _hash(context) != before


def test_hash_changes_with_new_files_modes_links_and_empty_folders(context: Path) -> None:
    seen = {_hash(context)}
    (context / "project" / "extra.txt").write_text("x")
    seen.add(_hash(context))
    (context / "run.sh").chmod(0o755)
    seen.add(_hash(context))
    (context / "project" / "link").symlink_to("app.py")
    seen.add(_hash(context))
    (context / "project" / "empty").mkdir()
    seen.add(_hash(context))
    assert len(seen) == 5


def test_hash_ignores_caches_and_dockerignored_files(context: Path) -> None:
    (context / ".dockerignore").write_text("# notes\nnotes.md\n")
    before = _hash(context)
    (context / "project" / "__pycache__").mkdir()
    (context / "project" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (context / "project" / "stray.pyc").write_bytes(b"\0")
    (context / "notes.md").write_text("not sent to Docker")
    assert _hash(context) == before
    assert "notes.md" not in images.context_files(context)
    assert "project/app.py" in images.context_files(context)


def test_hash_depends_on_parent_and_build_args(context: Path) -> None:
    base = _hash(context)
    assert _hash(context, parent="sha256:other") != base
    with_args = SPEC.model_copy(update={"build_args": {"WEIGHTS_MB": "8"}})
    assert _hash(context, spec=with_args) != base


def test_real_recipes_hash_without_docker() -> None:
    for spec in IMAGES:
        assert images.inputs_hash(spec, None).startswith("sha256:")


# --------------------------------------------------------------------------------------------
# Base recipe: one package list, the same trimming on both paths


def test_read_packages_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "packages.txt"
    path.write_text("# header\nbash\n\n  curl  # for downloads\n")
    assert images.read_packages(path) == ["bash", "curl"]


def test_base_package_list_is_lean_and_complete() -> None:
    packages = images.read_packages(sandboxes_dir() / "base" / "packages.txt")
    assert {"bash", "coreutils", "procps", "iproute2", "python3-minimal"} <= set(packages)
    assert {"libpython3.11-stdlib", "ca-certificates", "curl", "openssh-client"} <= set(packages)
    assert "python3" not in packages  # python3-minimal + stdlib keep the base small


def test_registry_dockerfile_matches_the_offline_recipe() -> None:
    text = (sandboxes_dir() / "base" / "Dockerfile").read_text()
    assert re.search(rf"^FROM {re.escape(images.REGISTRY_BASE)}$", text, re.M)
    assert "packages.txt" in text
    for pattern in images.TRIM_GLOBS:
        assert f"/{pattern}" in text, pattern
    for key, value in images.BASE_ENV.items():
        assert f"{key}={value}" in text
    assert 'CMD ["bash"]' in text


def test_trim_rootfs_removes_docs_and_host_files(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    for rel in ("usr/share/doc/bash", "usr/share/man/man1", "var/lib/apt/lists", "dev", "etc"):
        (root / rel).mkdir(parents=True)
    (root / "usr/share/doc/bash/copyright").write_text("x")
    (root / "var/lib/apt/lists/deb.debian.org_Packages").write_text("x")
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/dpkg.log").write_text("x")
    (root / "dev/null").write_text("not a device")
    (root / "etc/hostname").write_text("build-host\n")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/python3").write_text("keep")
    images.trim_rootfs(root)
    assert (root / "usr/share/doc").is_dir() and not any((root / "usr/share/doc").iterdir())
    assert not any((root / "var/lib/apt/lists").iterdir())
    assert not (root / "var/log/dpkg.log").exists()
    assert not any((root / "dev").iterdir())
    assert (root / "etc/hostname").read_text() == ""
    assert (root / "etc/resolv.conf").read_text() == ""
    assert (root / "usr/bin/python3").read_text() == "keep"


def test_rootfs_tar_keeps_numeric_owners_modes_and_links(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin/tool").write_text("#!/bin/sh\n")
    (root / "bin/tool").chmod(0o755)
    (root / "bin/alias").symlink_to("tool")
    tarball = tmp_path / "rootfs.tar"
    images.write_rootfs_tar(root, tarball)
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"bin", "bin/tool", "bin/alias"}
    assert members["bin/tool"].mode & 0o777 == 0o755
    assert members["bin/alias"].issym() and members["bin/alias"].linkname == "tool"
    assert all(m.uname == "" and m.gname == "" for m in members.values())
    assert members["bin/tool"].uid == os.getuid()


def test_base_source_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(images.BASE_SOURCE_ENV, "debootstrap")
    assert images.requested_base_source() == "debootstrap"
    assert images.base_source(client=object()) == "debootstrap"  # type: ignore[arg-type]
    monkeypatch.setenv(images.BASE_SOURCE_ENV, "Auto")
    assert images.requested_base_source() is None
    monkeypatch.setenv(images.BASE_SOURCE_ENV, "docker-hub")
    with pytest.raises(ValueError, match="expected auto, debootstrap or registry"):
        images.requested_base_source()


# --------------------------------------------------------------------------------------------
# Build decisions against a fake Docker client


class FakeImage:
    def __init__(self, image_id: str, labels: dict[str, str]) -> None:
        self.id = image_id
        self.labels = labels
        self.tags: list[str] = []
        self.attrs: dict[str, Any] = {"Size": 1_000_000}


class FakeImages:
    def __init__(self) -> None:
        self.by_name: dict[str, FakeImage] = {}
        self.by_id: dict[str, FakeImage] = {}
        self.removed: list[str] = []

    def add(self, name: str, labels: dict[str, str]) -> str:
        image = FakeImage(f"sha256:{len(self.by_id) + 1:064x}", labels)
        if name in self.by_name:
            self.by_name[name].tags.remove(name)
        image.tags.append(name)
        self.by_name[name] = self.by_id[image.id] = image
        return image.id

    def get(self, name: str) -> FakeImage:
        image = self.by_name.get(name) or self.by_id.get(name)
        if image is None:
            raise docker.errors.ImageNotFound(name)
        return image

    def remove(self, image_id: str) -> None:
        self.removed.append(image_id)


class FakeClient:
    def __init__(self) -> None:
        self.images = FakeImages()
        self.builds: list[str] = []


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeClient, Path]]:
    """A copy of the real recipes and a fake client whose builds only record labels."""
    recipes = tmp_path / "sandboxes"
    shutil.copytree(sandboxes_dir(), recipes, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(images.specs, "sandboxes_dir", lambda: recipes)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(images.BASE_SOURCE_ENV, "debootstrap")
    client = FakeClient()

    def build_base(_client: object, spec: ImageSpec, inputs: str, _say: object) -> str:
        client.builds.append(spec.name)
        labels = {images.INPUTS_LABEL: inputs, images.SOURCE_LABEL: "debootstrap"}
        return client.images.add(spec.name, labels)

    def build(
        _client: object, spec: ImageSpec, args: dict[str, str], labels: dict[str, str], *rest: Any
    ) -> str:
        network_mode = rest[0]
        assert network_mode == "none"
        assert args["BASE_IMAGE"] == spec.depends_on
        client.builds.append(spec.name)
        return client.images.add(spec.name, dict(labels))

    monkeypatch.setattr(images.build, "build_base_debootstrap", build_base)
    monkeypatch.setattr(images.build, "_docker_build", build)
    yield client, recipes


def _ensure(client: FakeClient, *names: str, force: bool = False) -> list[images.ImageResult]:
    lines: list[str] = []
    results = images.ensure_images(
        list(names) or None,
        force=force,
        progress=lines.append,
        client=client,  # type: ignore[arg-type]
    )
    assert lines, "progress lines expected"
    return results


def _actions(results: list[images.ImageResult]) -> list[tuple[str, str]]:
    return [(r.name, r.action) for r in results]


def test_builds_missing_then_skips(fake: tuple[FakeClient, Path]) -> None:
    client, _ = fake
    assert _actions(_ensure(client)) == [(name, "built") for name in ALL]
    assert _actions(_ensure(client)) == [(name, "skipped") for name in ALL]
    assert all(status.up_to_date for status in images.image_status(client))  # type: ignore[arg-type]


def test_changed_subject_file_rebuilds_only_the_subject(fake: tuple[FakeClient, Path]) -> None:
    client, recipes = fake
    _ensure(client)
    (recipes / "subject" / "Dockerfile").write_text(
        (recipes / "subject" / "Dockerfile").read_text() + "\n# changed\n"
    )
    status = {s.name: s for s in images.image_status(client)}  # type: ignore[arg-type]
    assert status[SUBJECT_IMAGE].reason == "inputs changed"
    assert status[BASE_IMAGE].up_to_date
    assert _actions(_ensure(client)) == [
        (name, "built" if name == SUBJECT_IMAGE else "skipped") for name in ALL
    ]


def test_changed_base_rebuilds_its_dependents(fake: tuple[FakeClient, Path]) -> None:
    client, recipes = fake
    _ensure(client)
    with (recipes / "base" / "packages.txt").open("a") as f:
        f.write("less\n")
    status = {s.name: s for s in images.image_status(client)}  # type: ignore[arg-type]
    assert status[SUBJECT_IMAGE].reason == f"parent {BASE_IMAGE} out of date"
    assert _actions(_ensure(client, "base")) == [(BASE_IMAGE, "built")]
    status = {s.name: s for s in images.image_status(client)}  # type: ignore[arg-type]
    assert status[SUBJECT_IMAGE].reason == "parent rebuilt"
    assert _actions(_ensure(client, "subject")) == [
        (BASE_IMAGE, "skipped"),
        (SUBJECT_IMAGE, "built"),
    ]
    assert client.images.removed, "the superseded build is cleaned up"


def test_force_applies_to_the_named_images_only(fake: tuple[FakeClient, Path]) -> None:
    client, _ = fake
    _ensure(client)
    assert _actions(_ensure(client, "subject", force=True)) == [
        (BASE_IMAGE, "skipped"),
        (SUBJECT_IMAGE, "built"),
    ]
    assert [a for _, a in _actions(_ensure(client, force=True))] == ["built"] * len(ALL)


def test_requested_source_mismatch_rebuilds_base(
    fake: tuple[FakeClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = fake
    _ensure(client)
    monkeypatch.setenv(images.BASE_SOURCE_ENV, "registry")
    status = {s.name: s for s in images.image_status(client)}  # type: ignore[arg-type]
    assert "REDLINE_BASE_SOURCE=registry" in status[BASE_IMAGE].reason


def test_foreign_image_with_our_name_is_rebuilt(fake: tuple[FakeClient, Path]) -> None:
    client, _ = fake
    client.images.add(BASE_IMAGE, {})
    status = images.image_status(client)  # type: ignore[arg-type]
    assert status[0].reason == "not built by redline-evals"
    assert status[1].reason == "missing"


# --------------------------------------------------------------------------------------------
# Version checks (doctor)


@pytest.mark.parametrize(
    ("found", "required", "ok"),
    [
        ("26.1.5+dfsg1", doctor.ENGINE_MIN, True),
        ("24.0.6", doctor.ENGINE_MIN, True),
        ("24.0.5", doctor.ENGINE_MIN, False),
        ("20.10.24+dfsg1", doctor.ENGINE_MIN, False),
        ("2.26.1-4", doctor.COMPOSE_MIN, True),
        ("v2.21.0", doctor.COMPOSE_MIN, True),
        ("2.20.3", doctor.COMPOSE_MIN, False),
        ("1.29.2", doctor.COMPOSE_MIN, False),
        (None, doctor.COMPOSE_MIN, False),
        ("dev", doctor.COMPOSE_MIN, False),
    ],
)
def test_version_at_least(found: str | None, required: str, ok: bool) -> None:
    assert doctor.version_at_least(found, required) is ok


def test_parse_version() -> None:
    assert doctor.parse_version("v2.26.1-4") == (2, 26, 1)
    assert doctor.parse_version("27.0") == (27, 0, 0)
    assert doctor.parse_version("unknown") is None
