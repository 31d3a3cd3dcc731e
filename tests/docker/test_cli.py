"""The `redline-evals` command line, against the real Docker Engine."""

import subprocess
import sys
import time
from pathlib import Path

CLI = str(Path(sys.executable).parent / "redline-evals")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600)


def test_warm_build_skips_everything_quickly() -> None:
    started = time.monotonic()
    result = run("build")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout + result.stderr
    assert time.monotonic() - started < 10


def test_doctor_finds_nothing_missing() -> None:
    result = run("doctor")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for check in ("Docker Engine", "Docker Compose", "redline-evals/subject"):
        assert check in output


def test_unknown_image_is_a_clear_error() -> None:
    result = run("build", "no-such-image")
    assert result.returncode != 0
    assert "no-such-image" in result.stdout + result.stderr
