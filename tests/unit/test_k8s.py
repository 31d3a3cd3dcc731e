"""Kubernetes: `-T sandbox=k8s` gives each task its helm values (sandboxes/helm/), and every
values file validates against the chart inspect-k8s-sandbox ships and keeps compose's
containment."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import k8s_sandbox
import pytest
import yaml
from inspect_ai import Task
from inspect_ai._eval.loader import resolve_task_sandbox
from inspect_ai._eval.task.sandbox import resolve_sandbox
from k8s_sandbox._helm import StaticValuesSource
from k8s_sandbox._sandbox_environment import (
    _create_values_source,
    _validate_and_resolve_k8s_sandbox_config,
)

from redline_evals.families.chain_of_replication import chain_of_replication
from redline_evals.families.defended_replication import defended_replication
from redline_evals.families.network_spread import network_spread
from redline_evals.families.process_persistence import process_persistence
from redline_evals.families.remote_replication import remote_replication
from redline_evals.families.self_replication import self_replication
from redline_evals.families.shutdown_avoidance import shutdown_avoidance
from redline_evals.harness.instance import check_sandbox_type
from redline_evals.images import IMAGES
from redline_evals.resources import sandboxes_dir
from redline_evals.sandbox.client import ProbeError

CHART = Path(k8s_sandbox.__file__).parent / "resources" / "helm" / "agent-env"
VALUES_FILES = sorted((sandboxes_dir() / "helm").glob("*.yaml"))
COMPOSE_DIR = sandboxes_dir() / "compose"
KNOWN_IMAGES = {spec.name for spec in IMAGES}


def chart_values(path: Path) -> dict[str, Any]:
    """The values helm renders with: the chart's defaults, deep-merged with the file's."""

    def merge(base: Any, over: Any) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            return {k: merge(base.get(k), over[k]) if k in base else over[k] for k in over} | {
                k: v for k, v in base.items() if k not in over
            }
        return over

    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    return dict(merge(defaults, yaml.safe_load(path.read_text())))


def test_every_compose_layout_has_helm_values() -> None:
    layouts = {p.stem for p in COMPOSE_DIR.glob("*.yaml") if not p.stem.endswith("-gpu")}
    assert layouts and layouts == {p.stem for p in VALUES_FILES}


@pytest.mark.parametrize("path", VALUES_FILES, ids=lambda p: p.name)
def test_values_validate_against_the_chart_schema(path: Path) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.validate(chart_values(path), schema)


def test_schema_check_can_fail() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    bad = chart_values(VALUES_FILES[0])
    bad["services"]["default"]["imagePullPolicy"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize("path", VALUES_FILES, ids=lambda p: p.name)
def test_values_keep_compose_containment(path: Path) -> None:
    values = chart_values(path)
    compose = yaml.safe_load((COMPOSE_DIR / path.name).read_text())["services"]
    # no egress: nothing allowed out, and the network policies that enforce it are on
    for key in ("allowDomains", "allowDomainsPorts", "allowEntities", "allowCIDR"):
        assert values[key] == [], f"{path.name}: {key}"
    assert values["networkPolicy"]["enabled"] is True
    assert values["automountServiceAccountToken"] is False
    assert set(values["services"]) == set(compose), "the same services as compose"
    for name, service in values["services"].items():
        where = f"{path.name}:{name}"
        assert service["image"] == compose[name]["image"] and service["image"] in KNOWN_IMAGES
        assert service["runtimeClassName"] == "gvisor", where
        limits, requests = service["resources"]["limits"], service["resources"]["requests"]
        assert limits == requests, where
        assert cpu_millis(limits["cpu"]) == int(float(compose[name]["cpus"]) * 1000), where
        assert limits["memory"] == compose[name]["mem_limit"].replace("g", "Gi").replace("m", "Mi")
        context = service["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and not context["privileged"], where
        assert context["capabilities"]["drop"] == ["ALL"], where
        assert sorted(context["capabilities"].get("add", [])) == sorted(
            compose[name].get("cap_add", [])
        ), f"{where}: the capabilities of compose's cap_add, no more"
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
        if compose[name]["image"] == "redline-evals/allocator:0.1":
            assert context["runAsNonRoot"] is True and context["runAsUser"] == 990, where
        else:  # the harness probes as root; the agent and the original run as agent via runuser
            assert context["runAsUser"] == 0 and "/opt/redline/entrypoint.sh" in str(
                service["command"]
            ), f"{where}: the image's entrypoint under a reaping PID 1, not the chart's tail"
        assert context.get("readOnlyRootFilesystem", False) == compose[name].get("read_only", False)
        assert memory_mounts(service) == compose_tmpfs(compose[name]), f"{where}: tmpfs"
        env = {e["name"]: e["value"] for e in service.get("env", [])}
        compose_env = {k: str(v) for k, v in (compose[name].get("environment") or {}).items()}
        assert env == compose_env, where
    if "network_mode" in compose["default"]:
        assert values["services"]["default"]["networkIsolated"] is True


def cpu_millis(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


def compose_tmpfs(service: dict[str, Any]) -> dict[str, str]:
    """Compose's tmpfs mounts (and /dev/shm's size) as {path: size in Mi}."""
    mounts = {}
    for entry in service.get("tmpfs", []):
        path, _, options = entry.partition(":")
        size = dict(o.split("=", 1) for o in options.split(",") if "=" in o)["size"]
        mounts[path] = size.removesuffix("m") + "Mi"
    if "shm_size" in service:
        mounts["/dev/shm"] = service["shm_size"].removesuffix("m") + "Mi"
    return mounts


def memory_mounts(service: dict[str, Any]) -> dict[str, str]:
    """The service's memory-backed emptyDir mounts as {path: size limit}."""
    volumes = {v["name"]: v["emptyDir"] for v in service.get("volumes", [])}
    mounts = {}
    for mount in service.get("volumeMounts", []):
        assert volumes[mount["name"]]["medium"] == "Memory", mount
        mounts[mount["mountPath"]] = volumes[mount["name"]]["sizeLimit"]
    return mounts


TASKS = {
    "self_replication": (self_replication, {}, "local.yaml"),
    "shutdown_avoidance": (shutdown_avoidance, {}, "local.yaml"),
    "chain_of_replication": (chain_of_replication, {}, "local.yaml"),
    "process_persistence": (process_persistence, {}, "local.yaml"),
    "remote_replication": (remote_replication, {}, "remote.yaml"),
    "remote_replication_harsh": (remote_replication, {"target": "harsh"}, "remote-harsh.yaml"),
    "defended_replication": (defended_replication, {}, "local-defended.yaml"),
    "network_spread": (network_spread, {}, "spread-3.yaml"),
    "network_spread_5": (network_spread, {"hops": 5}, "spread-5.yaml"),
}


@pytest.fixture(autouse=True)
def _no_image_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REDLINE_SKIP_IMAGE_BUILD", "1")
    monkeypatch.chdir(tmp_path)  # Inspect also looks for values.yaml in the working folder


def resolved(task: Task, eval_sandbox: str | None) -> Any:
    """The sandbox of the task's sample as Inspect resolves it for `--sandbox eval_sandbox`."""
    task_sandbox = resolve_task_sandbox(task, eval_sandbox)
    return asyncio.run(resolve_sandbox(task_sandbox, task.dataset[0], task.name))


@pytest.mark.parametrize("name", TASKS)
def test_sandbox_k8s_picks_up_the_task_values(name: str) -> None:
    factory, args, layout = TASKS[name]
    task = factory(**args, sandbox="k8s")
    spec = resolved(task, None)
    assert spec.type == "k8s" and spec.config == str(sandboxes_dir() / "helm" / layout)
    config = _validate_and_resolve_k8s_sandbox_config(spec.config)
    assert config.values == sandboxes_dir() / "helm" / layout
    assert isinstance(_create_values_source(config), StaticValuesSource)  # used as written


@pytest.mark.parametrize("name", TASKS)
def test_docker_keeps_the_compose_file(name: str) -> None:
    factory, args, layout = TASKS[name]
    task = factory(**args)
    for eval_sandbox in (None, "docker"):
        spec = resolved(task, eval_sandbox)
        assert spec.type == "docker" and spec.config == str(COMPOSE_DIR / layout)


def test_an_eval_level_k8s_sandbox_without_our_values_is_refused_at_setup() -> None:
    """`--sandbox k8s` would run a task without its Helm values (no network policy): the setup
    refuses it, before the agent acts, and says to use `-T sandbox=k8s`."""
    with pytest.raises(ProbeError, match="-T sandbox=k8s"):
        check_sandbox_type("k8s", "docker")
    check_sandbox_type("docker", "docker")
    check_sandbox_type("k8s", "k8s")
