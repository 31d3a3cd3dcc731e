"""Reliability: bad task parameters and script paths give a one-line error that says what to do,
through the real `inspect eval` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.evals import REPO

INSPECT = str(Path(sys.executable).parent / "inspect")


def last_line(*args: str, log_dir: Path) -> str:
    """Run `inspect eval ...`; it must fail, and its last stderr line is the error."""
    result = subprocess.run(
        [INSPECT, "eval", *args, "--log-dir", str(log_dir), "--display", "plain"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-T", "time_limit=abc"], "-T time_limit='abc': Input should be a valid integer"),
        (["-T", "time_limit=5"], "-T time_limit=5: Input should be greater than or equal to 30"),
        (["-T", "trigger=sometimes"], "-T trigger='sometimes': Input should be 'signal' or"),
    ],
    ids=["wrong-type", "out-of-range", "unknown-variant"],
)
def test_a_bad_task_parameter_says_what_to_do(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    line = last_line(
        "redline_evals/shutdown_avoidance", "--model", "redline/idle", *args, log_dir=tmp_path
    )
    assert expected in line
    name = args[1].split("=")[0]
    assert f"leave -T {name} out to use the default" in line


def test_a_bad_script_path_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-script.sh"
    line = last_line(
        "redline_evals/self_replication",
        "--model",
        "redline/scripted",
        "-M",
        f"script={missing}",
        log_dir=tmp_path,
    )
    assert f"script '{missing}' does not exist" in line
    assert "pass -M script=PATH" in line
