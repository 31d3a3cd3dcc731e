"""`redline-evals report` end to end: real runs against Docker, then the CLI on their logs."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import EvalLog
from support.evals import REPO, control, run_controls, scores

from redline_evals.families.self_replication import self_replication

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TASK = "self_replication"
MODELS = {
    "reference": "redline/reference",
    "idle": "redline/idle",
    "copy_only": "redline/scripted script=copy_only",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, EvalLog], Path]:
    log_dir = tmp_path_factory.mktemp("logs")
    controls = {
        "reference": control("redline/reference", epochs=2),
        "idle": control("redline/idle", epochs=2),
        "copy_only": control(
            "redline/scripted",
            script=str(REPO / "tasks/self_replication/controls/copy_only.sh"),
        ),
    }
    return run_controls(self_replication, controls, log_dir), log_dir


@pytest.fixture(scope="module")
def report(
    run: tuple[dict[str, EvalLog], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run(
        [sys.executable, "-m", "redline_evals.cli", "report", str(run[1]), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, out


def success_rows(markdown: str) -> dict[str, dict[str, str]]:
    """The success table's rows by model."""
    lines = markdown.split("## Success", 1)[1].split("\n## ", 1)[0].splitlines()
    table = [line for line in lines if line.startswith("|") and not line.startswith("|---")]
    headers = [cell.strip() for cell in table[0].strip("|").split(" | ")]
    rows = [dict(zip(headers, (c.strip() for c in r.strip("|").split(" | ")), strict=True))
            for r in table[1:]]  # fmt: skip
    assert all(row["task"] == TASK for row in rows)
    return {row["model"]: row for row in rows}


def median_cell(values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f}" if values else "—"


def test_cli_succeeds_and_writes_three_files(
    report: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, out = report
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr
    assert {p.name for p in out.iterdir()} == {"report.md", "success.png", "report.html"}
    assert (out / "success.png").read_bytes().startswith(PNG_SIGNATURE)
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    for model in MODELS.values():
        assert f"<td>{TASK}</td><td>{model}</td>" in page
    assert "| task | model | runs | trials |" in done.stdout


def test_table_rows_match_the_runs(
    run: tuple[dict[str, EvalLog], Path], report: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    logs, _ = run
    rows = success_rows((report[1] / "report.md").read_text())
    assert set(rows) == set(MODELS.values())
    expected = {
        # trials, success, 95% Wilson interval, pass@1 (pass@10: fewer than 10 epochs)
        "reference": ("2", "1.00 (2/2)", "[0.34, 1.00]", "1.00"),
        "idle": ("2", "0.00 (0/2)", "[0.00, 0.66]", "0.00"),
        "copy_only": ("1", "0.00 (0/1)", "[0.00, 0.79]", "0.00"),
    }
    for name, (trials, success, interval, pass_1) in expected.items():
        values = scores(logs[name])  # every trial scored: the controls are deterministic
        assert len(values) == int(trials)
        row = rows[MODELS[name]]
        assert (row["runs"], row["trials"], row["unscored"], row["success key"]) == (
            "1",
            trials,
            "0",
            "replicated",
        )
        assert (row["success"], row["95% CI"], row["pass@1"], row["pass@10"]) == (
            success,
            interval,
            pass_1,
            "—",
        )


def test_medians_match_the_logs(
    run: tuple[dict[str, EvalLog], Path], report: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    """Steps, tokens and time to replica, recomputed here from the samples themselves."""
    logs, _ = run
    rows = success_rows((report[1] / "report.md").read_text())
    for name, log in logs.items():
        steps, tokens, seconds = [], [], []
        for sample in log.samples or []:
            [score] = (sample.scores or {}).values()
            stats = score.metadata or {}
            steps.append(
                stats.get("steps", sum(1 for m in sample.messages if m.role == "assistant"))
            )
            tokens.append(stats.get("tokens", sample.model_usage[log.eval.model].total_tokens))
            if stats.get("seconds_to_first_replica") is not None:
                seconds.append(stats["seconds_to_first_replica"])
        row = rows[MODELS[name]]
        assert row["median steps"] == median_cell(steps, 1)
        assert row["median tokens"] == median_cell(tokens, 0)
        assert row["median s to replica"] == median_cell(seconds, 1)
        assert min(steps) >= 1 and min(tokens) > 0
    # the reference runs more commands than the idle model, which runs none
    assert float(rows[MODELS["reference"]]["median steps"]) > float(
        rows[MODELS["idle"]]["median steps"]
    )


def test_the_analysis_snippets_in_the_docs_run_on_these_logs(
    run: tuple[dict[str, EvalLog], Path],
) -> None:
    """docs/analysis.md's pandas snippets, run as written on the logs made here."""
    text = (REPO / "docs/analysis.md").read_text()
    snippets = [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]
    assert len(snippets) == 2
    namespace: dict[str, object] = {}
    for snippet in snippets:
        exec(snippet.replace('"logs"', repr(str(run[1]))), namespace)  # noqa: S102
    table = namespace["table"]
    rows = {model: row for (_, model), row in table.iterrows()}  # type: ignore[attr-defined]
    assert rows["redline/reference"]["success"] == 1.0 and rows["redline/reference"]["trials"] == 2
    assert rows["redline/idle"]["success"] == 0.0
    runs = namespace["runs"]
    assert set(runs["score_headline_score"]) == {"replicated"}  # type: ignore[index]
