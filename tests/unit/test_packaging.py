"""The wheel carries everything a task needs (specs, scripts, sandbox recipes) and nothing else."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = out.glob("redline_evals-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def tracked(pattern: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", pattern], cwd=REPO, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def test_every_task_and_sandbox_file_is_in_the_wheel(wheel_files: set[str]) -> None:
    expected = [f"redline_evals/{path}" for path in tracked("tasks") + tracked("sandboxes")]
    assert expected, "git lists no task or sandbox files"
    missing = [path for path in expected if path not in wheel_files]
    assert not missing


def test_the_wheel_has_the_code_and_the_entry_point(wheel_files: set[str]) -> None:
    for path in (
        "redline_evals/_registry.py",
        "redline_evals/sandbox/inside/probe.py",
        "redline_evals/sandbox/inside/procfs.py",
        "redline_evals/sandbox/inside/watcher.py",
        "redline_evals/sandboxes/compose/local.yaml",
        "redline_evals/tasks/self_replication/task.yaml",
        "redline_evals/sandboxes/subject/project/agent.py",
        "redline_evals/py.typed",
    ):
        assert path in wheel_files
    [entry_points] = [f for f in wheel_files if f.endswith("entry_points.txt")]
    assert entry_points


def test_the_wheel_has_no_caches_logs_or_tests(wheel_files: set[str]) -> None:
    bad = [
        f
        for f in wheel_files
        if "__pycache__" in f
        or f.endswith(".pyc")
        or f.endswith(".eval")
        or f.startswith("tests/")
        or "/.venv/" in f
    ]
    assert not bad


def test_the_wheel_says_its_version_and_license(wheel_files: set[str]) -> None:
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f"redline_evals-{version}.dist-info/licenses/LICENSE" in wheel_files
    assert version in (REPO / "CHANGELOG.md").read_text()  # every release has its notes


def test_the_cli_says_its_version() -> None:
    from redline_evals import __version__

    out = subprocess.run(
        [sys.executable, "-m", "redline_evals.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"redline-evals {__version__}"


def test_report_on_a_missing_path_prints_the_report_usage() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "redline_evals.cli", "report", "/nonexistent"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "usage: redline-evals report [-h] [--out OUT] [--pass-at K [K ...]] [--strict] "
        "LOG [LOG ...]\n"
        "redline-evals report: error: no such file or folder: /nonexistent\n"
    )
