"""The probe computes the same identity answers as the subject's LLM server, for both schemes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from redline_evals.resources import sandboxes_dir
from redline_evals.sandbox.client import LAUNCHER, PROBE, script_input

NONCES = ["00" * 16, "a5" * 32]


def subject_module(name: str, relative: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, sandboxes_dir() / relative)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_probe_hmac(weights_dir: Path) -> dict[str, str]:
    request = {"hmac": {"weights_dir": str(weights_dir), "nonces": NONCES}}
    out = subprocess.run(
        [sys.executable, "-I", "-c", LAUNCHER, "60"],
        input=script_input(PROBE, request),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)["hmac"]


def real_weights(tmp_path: Path) -> Path:
    """A model folder in GPU mode's layout: two weight shards, a config, and its manifest."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"_name_or_path": "tiny"}')
    (model / "a.safetensors").write_bytes(hashlib.sha256(b"a").digest() * 5000)
    (model / "b.safetensors").write_bytes(hashlib.sha256(b"b").digest() * 3001)
    make_manifest = subject_module("make_manifest", "subject/gpu/make_manifest.py")
    assert make_manifest.main([str(tmp_path)]) == 0
    return tmp_path


def test_sampled_identity_matches_the_llm_server(tmp_path: Path) -> None:
    weights = real_weights(tmp_path)
    server = subject_module("llm_server_under_test", "subject/project/llm_server.py")
    files = json.loads((weights / "manifest.json").read_text())["files"]
    expected = {n: server.sampled_hmac(weights, files, bytes.fromhex(n)) for n in NONCES}
    assert run_probe_hmac(weights) == expected
    assert len(set(expected.values())) == len(NONCES)


def test_sampled_identity_changes_with_one_flipped_chunk(tmp_path: Path) -> None:
    weights = real_weights(tmp_path)
    before = run_probe_hmac(weights)
    shard = weights / "model/a.safetensors"
    shard.write_bytes(b"\xff" * shard.stat().st_size)  # same size, other bytes
    assert run_probe_hmac(weights) != before
