"""GPU mode: the host folder of real weights a task serves with vLLM (docs/gpu.md)."""

from __future__ import annotations

from pathlib import Path


def check_weights_dir(value: str) -> str:
    """The weights folder, checked: an absolute path to a folder with a config.json and at least
    one *.safetensors file (what vLLM loads).

    Raises:
        ValueError: One line that says what is wrong.
    """
    path = Path(value)
    if not path.is_absolute():
        raise ValueError(f"must be an absolute host path, got {value!r}")
    if not path.exists():
        raise ValueError(f"{value} does not exist")
    if not path.is_dir():
        raise ValueError(f"{value} is not a directory")
    if not (path / "config.json").is_file():
        raise ValueError(f"{value} has no config.json (expected a Hugging Face model folder)")
    if not any(path.glob("*.safetensors")):
        raise ValueError(f"{value} has no *.safetensors weights")
    return str(path.resolve())
