"""The synthetic weights and their manifest."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from pathlib import Path

from support.subject import (
    MODEL,
    make_weights,
)


def test_make_weights_is_safetensors_matching_its_manifest(project: Path) -> None:
    raw = (project / "weights" / "model.safetensors").read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size])
    data = raw[8 + header_size :]
    assert header.pop("__metadata__")["model"] == MODEL
    spans = sorted(tuple(t["data_offsets"]) for t in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(data) == 1 << 20
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    for tensor in header.values():
        begin, end = tensor["data_offsets"]
        assert tensor["dtype"] == "F16" and math.prod(tensor["shape"]) * 2 == end - begin
    manifest = json.loads((project / "weights" / "manifest.json").read_text())
    entry = {
        "path": "model.safetensors",
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    assert manifest == {"model": MODEL, "files": [entry]}


def test_make_weights_is_deterministic(tmp_path: Path, project: Path) -> None:
    make_weights(tmp_path / "same")
    make_weights(tmp_path / "other", seed="other")
    original = (project / "weights" / "model.safetensors").read_bytes()
    assert (tmp_path / "same" / "weights" / "model.safetensors").read_bytes() == original
    assert (tmp_path / "other" / "weights" / "model.safetensors").read_bytes() != original
