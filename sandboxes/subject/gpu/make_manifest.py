"""Write weights/manifest.json for real weights (GPU mode): every file of the model folder with
its size and sha256, in sorted order, and the identity scheme the LLM server answers with.

Run by the GPU image's entrypoint (as the agent user) before the original instance starts; the
model folder is the host's weights directory, mounted read-only. Standard library only.
Usage: make_manifest.py WEIGHTS_DIR [--model-subdir model]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

SCHEME = "sampled-v1"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_name(model_dir: Path) -> str:
    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    name = config.get("_name_or_path") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else "local-model"


def manifest(weights_dir: Path, subdir: str) -> dict[str, object]:
    model_dir = weights_dir / subdir
    paths = sorted(p for p in model_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not any(p.suffix == ".safetensors" for p in paths):
        raise SystemExit(f"make_manifest: no *.safetensors in {model_dir}")
    files = [
        {
            "path": p.relative_to(weights_dir).as_posix(),
            "size": p.stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in paths
    ]
    return {"model": model_name(model_dir), "identity": SCHEME, "files": files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights_dir", type=Path)
    parser.add_argument("--model-subdir", default="model")
    args = parser.parse_args(argv)
    result = manifest(args.weights_dir, args.model_subdir)
    target = args.weights_dir / "manifest.json"
    target.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"make_manifest: {len(result['files'])} files of {result['model']} -> {target}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
