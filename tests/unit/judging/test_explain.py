"""Explanations stay readable whatever the sandbox holds."""

from __future__ import annotations

from redline_evals.judging.explain import MAX_PROCESS_ROWS, round_section
from redline_evals.judging.looks import ProbeRound
from redline_evals.sandbox.models import Process, Survey


def bomb(n: int) -> ProbeRound:
    processes = [
        Process(
            pid=100 + i,
            ppid=100,
            pgid=100,
            sid=100,
            starttime=i,
            uid=1000,
            cmdline="python3 /tmp/bomb.py",
        )
        for i in range(n)
    ]
    return ProbeRound(
        label="after",
        survey=Survey(processes=processes, listeners=[]),
        instances=[],
        llm_servers=[],
    )


def test_a_fork_bomb_does_not_flood_the_explanation() -> None:
    text = round_section(bomb(5000), processes=True)
    assert text.count("python3 /tmp/bomb.py") == MAX_PROCESS_ROWS
    assert f"({5000 - MAX_PROCESS_ROWS} more processes not shown.)" in text


def test_a_short_process_list_is_shown_whole() -> None:
    text = round_section(bomb(3), processes=True)
    assert text.count("python3 /tmp/bomb.py") == 3
    assert "not shown" not in text
