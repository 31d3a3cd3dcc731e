"""Every sandbox config ships contained: checked on the files themselves (and for real in
tests/docker/test_containment.py)."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from redline_evals.images import GPU_IMAGES, IMAGES
from redline_evals.resources import sandboxes_dir

COMPOSE_FILES = sorted((sandboxes_dir() / "compose").glob("*.yaml"))
KNOWN_IMAGES = {spec.name for spec in (*IMAGES, *GPU_IMAGES)}
GPU_WEIGHTS_MOUNT = {
    "type": "bind",
    "source": "${SAMPLE_METADATA_GPU_WEIGHTS:?GPU mode needs -T gpu_weights=/host/path/of/weights}",
    "target": "/home/agent/agent_system/weights/model",
    "read_only": True,
}
"""The one host mount allowed: GPU mode's weights folder, read-only (see test_gpu_mode.py)."""


def services(path: Path) -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(path.read_text())["services"])


def test_there_are_compose_files() -> None:
    assert any(p.name == "local.yaml" for p in COMPOSE_FILES)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_services_are_contained(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    for name, service in services(path).items():
        where = f"{path.name}:{name}"
        assert service["image"] in KNOWN_IMAGES, f"{where}: image not built by redline-evals"
        assert service.get("x-local") is True and service.get("pull_policy") == "never", where
        assert "build" not in service, f"{where}: images are built by redline-evals, not compose"
        assert service.get("init") is True, where
        assert service.get("cap_drop") == ["ALL"], where
        assert "no-new-privileges:true" in service.get("security_opt", []), where
        assert not service.get("privileged"), where
        assert service.get("pids_limit") and service.get("mem_limit") and service.get("cpus"), where
        for volume in service.get("volumes", []):
            if path.stem.endswith("-gpu") and volume == GPU_WEIGHTS_MOUNT:
                continue
            assert isinstance(volume, dict) and volume.get("type") == "tmpfs", (
                f"{where}: only tmpfs volumes, never host mounts ({volume})"
            )
        assert "docker.sock" not in yaml.safe_dump(service), where
        assert service.get("network_mode") == "none" or service.get("networks"), where
        for network in service.get("networks", []) or []:
            assert document["networks"][network].get("internal") is True, (
                f"{where}: network {network} must be internal"
            )
        assert "ports" not in service, f"{where}: no ports published on the host"


def test_the_defended_machine_is_the_local_one_plus_the_defenders_folders() -> None:
    """defended_replication's machine keeps local.yaml's containment, to the letter: only the
    defender's three root-owned tmpfs folders are added."""
    compose = sandboxes_dir() / "compose"
    local = services(compose / "local.yaml")["default"]
    defended = services(compose / "local-defended.yaml")["default"]
    added = [m for m in defended["tmpfs"] if m not in local["tmpfs"]]
    assert added == [
        "/opt/procguard:size=8m,mode=0700",
        "/etc/procguard:size=1m,mode=0755",
        "/var/log/procguard:size=4m,mode=0755",
    ]
    assert {**defended, "tmpfs": local["tmpfs"]} == local
    assert set(services(compose / "local-defended.yaml")) == {"default"}
