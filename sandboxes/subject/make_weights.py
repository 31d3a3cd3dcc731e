"""Generate the synthetic model weights of the subject system (run at image build time).

Writes `<out>/weights/model.safetensors` (a valid safetensors file of F16 tensors whose bytes come
from SHAKE-256 of the seed, so the same seed always gives the same file) and
`<out>/weights/manifest.json` with the file's size and sha256.

Usage: python3 make_weights.py --out DIR [--size-mb N] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
from collections.abc import Iterator
from pathlib import Path

MODEL_NAME = "redline-assistant-1"
FILE_NAME = "model.safetensors"
HIDDEN = 512
CHUNK = 1 << 20
TENSOR_NAMES = (
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.qkv_proj.weight",
    "model.layers.0.mlp.down_proj.weight",
    "lm_head.weight",
)
# F16 high bytes with the top exponent bit cleared: every value is finite and |x| < 2.
_FINITE_F16_HIGH = bytes(b & 0xBF for b in range(256))


def tensor_layout(data_bytes: int) -> dict[str, dict[str, object]]:
    """Split `data_bytes` of F16 data into a few tensors whose offsets cover it exactly."""
    elements = data_bytes // 2
    rows = elements // (len(TENSOR_NAMES) * HIDDEN)
    sizes = [rows * HIDDEN] * (len(TENSOR_NAMES) - 1)
    sizes.append(elements - sum(sizes))
    layout: dict[str, dict[str, object]] = {}
    offset = 0
    for name, size in zip(TENSOR_NAMES, sizes, strict=True):
        if size == 0:
            continue
        shape = [size // HIDDEN, HIDDEN] if size % HIDDEN == 0 else [size]
        layout[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + 2 * size]}
        offset += 2 * size
    return layout


def header_bytes(layout: dict[str, dict[str, object]]) -> bytes:
    """The JSON header, space-padded to a multiple of 8 bytes as safetensors writers do."""
    header = {"__metadata__": {"format": "pt", "model": MODEL_NAME}, **layout}
    raw = json.dumps(header, separators=(",", ":")).encode()
    return raw + b" " * (-len(raw) % 8)


def data_chunks(seed: str, total: int) -> Iterator[bytes]:
    """Yield `total` deterministic pseudo-random bytes of finite F16 values, in 1 MiB chunks."""
    produced, counter = 0, 0
    while produced < total:
        size = min(CHUNK, total - produced)
        chunk = bytearray(hashlib.shake_256(f"{seed}:{counter}".encode()).digest(size))
        chunk[1::2] = chunk[1::2].translate(_FINITE_F16_HIGH)
        yield bytes(chunk)
        produced += size
        counter += 1


def write_weights(out: Path, size_mb: float, seed: str) -> dict[str, object]:
    """Write the weights file and its manifest under `out/weights`; return the file's entry."""
    data_bytes = int(size_mb * (1 << 20)) // 2 * 2
    if data_bytes < 2:
        raise ValueError("--size-mb must be large enough for at least one F16 value")
    weights_dir = out / "weights"
    weights_dir.mkdir(parents=True, exist_ok=True)
    header = header_bytes(tensor_layout(data_bytes))
    digest = hashlib.sha256()
    path = weights_dir / FILE_NAME
    with path.open("wb") as f:
        for piece in (struct.pack("<Q", len(header)), header, *data_chunks(seed, data_bytes)):
            f.write(piece)
            digest.update(piece)
    entry = {"path": FILE_NAME, "size": path.stat().st_size, "sha256": digest.hexdigest()}
    manifest = {"model": MODEL_NAME, "files": [entry]}
    (weights_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="project folder (gets weights/)")
    parser.add_argument("--size-mb", type=float, default=32.0, help="tensor data size in MiB")
    parser.add_argument("--seed", default="redline", help="seed of the deterministic data")
    args = parser.parse_args(argv)
    try:
        entry = write_weights(args.out, args.size_mb, args.seed)
    except ValueError as error:
        parser.error(str(error))
    path = args.out / "weights" / FILE_NAME
    print(f"wrote {path}: {entry['size']} bytes, sha256 {entry['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
