"""GPU mode (docs/gpu.md): weights folder validation at task creation, the GPU compose variant
validated by `docker compose config`, and GPU images kept out of the offline build."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from redline_evals import images
from redline_evals.families.remote_replication import remote_replication
from redline_evals.families.self_replication import self_replication
from redline_evals.resources import sandboxes_dir
from redline_evals.sandbox.subject import GPU_METADATA_KEY

GPU_COMPOSE = sandboxes_dir() / "compose" / "local-gpu.yaml"
WEIGHTS_TARGET = "/home/agent/agent_system/weights/model"


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    folder = tmp_path / "Qwen2.5-0.5B-Instruct"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "Qwen/Qwen2.5-0.5B"}))
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    return folder


@pytest.fixture(autouse=True)
def _no_image_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_SKIP_IMAGE_BUILD", "1")


def test_gpu_weights_selects_the_gpu_sandbox(weights: Path) -> None:
    task = self_replication(gpu_weights=str(weights))
    assert task.sandbox is not None and task.sandbox.config == str(GPU_COMPOSE)
    sample = task.dataset[0]
    assert sample.metadata is not None and sample.metadata[GPU_METADATA_KEY] == str(weights)
    # compose reads it as Inspect passes sample metadata: SAMPLE_METADATA_<KEY>
    assert f"SAMPLE_METADATA_{GPU_METADATA_KEY.upper()}" in GPU_COMPOSE.read_text()


def test_without_gpu_weights_the_synthetic_sandbox() -> None:
    task = self_replication()
    assert task.sandbox is not None and task.sandbox.config.endswith("compose/local.yaml")
    assert GPU_METADATA_KEY not in (task.dataset[0].metadata or {})


def bad_weights(kind: str, folder: Path) -> str:
    if kind == "relative":
        return "models/llama"
    if kind == "missing":
        return str(folder / "nope")
    if kind == "file":
        return str(folder / "config.json")
    if kind == "no config":
        (folder / "config.json").unlink()
    if kind == "no safetensors":
        (folder / "model.safetensors").rename(folder / "model.bin")
    return str(folder)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("relative", "must be an absolute host path"),
        ("missing", "does not exist"),
        ("file", "is not a directory"),
        ("no config", "has no config.json"),
        ("no safetensors", "has no *.safetensors"),
    ],
)
def test_bad_weights_folder_fails_at_task_creation(kind: str, message: str, weights: Path) -> None:
    with pytest.raises(ValueError, match=r"^self_replication: -T gpu_weights=") as error:
        self_replication(gpu_weights=bad_weights(kind, weights))
    assert message in str(error.value) and "-T gpu_weights=" in str(error.value)


def test_gpu_mode_on_a_layout_without_a_gpu_variant_is_refused(weights: Path) -> None:
    with pytest.raises(ValueError, match="GPU mode is not available for the remote sandbox"):
        remote_replication(gpu_weights=str(weights))


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(GPU_COMPOSE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_gpu_compose_validates_with_docker_compose(weights: Path) -> None:
    result = compose_config({f"SAMPLE_METADATA_{GPU_METADATA_KEY.upper()}": str(weights)})
    assert result.returncode == 0, result.stderr
    service = json.loads(result.stdout)["services"]["default"]
    assert service["image"] == images.SUBJECT_GPU_IMAGE and service["pull_policy"] == "never"
    [volume] = service["volumes"]
    assert volume["type"] == "bind" and volume["read_only"] is True
    assert volume["source"] == str(weights) and volume["target"] == WEIGHTS_TARGET
    [device] = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert int(device["count"]) >= 1
    assert service["network_mode"] == "none" and service["init"] is True
    assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"]
    assert service["mem_limit"] and service["pids_limit"] and service["cpus"]
    assert "user" not in service  # PID 1 root as in local.yaml; the agent runs as `agent`


def test_gpu_compose_without_weights_names_the_parameter() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLE_METADATA_")}
    result = subprocess.run(
        ["docker", "compose", "-f", str(GPU_COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode != 0 and "-T gpu_weights" in result.stderr


def test_gpu_images_are_not_in_the_offline_build() -> None:
    names = {spec.name for spec in images.IMAGES}
    assert images.SUBJECT_GPU_IMAGE not in names
    assert (
        images.SUBJECT_GPU_IMAGE
        in yaml.safe_load(GPU_COMPOSE.read_text())["services"]["default"]["image"]
    )
    with pytest.raises(KeyError, match="not built by redline-evals build") as error:
        images.get_spec("subject-gpu")
    assert f"--build-arg VLLM_IMAGE={images.VLLM_IMAGE}" in str(error.value)
    [spec] = images.GPU_IMAGES
    dockerfile = images.context_path(spec) / spec.dockerfile
    assert f"ARG VLLM_IMAGE={images.VLLM_IMAGE}" in dockerfile.read_text()
