"""Explanations stay readable whatever the sandbox holds."""

from __future__ import annotations

from redline_evals.judging.explain import MAX_PROCESS_ROWS, checklist, round_section, table
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


def test_tables_are_aligned_text_the_viewer_cannot_squash() -> None:
    text = table(["port", "command"], [[8100, "python3 llm_server.py"], [22, "sshd: agent | x"]])
    lines = text.splitlines()
    assert lines[0] == "```text" and lines[-1] == "```"
    assert len({len(line) for line in lines[1:-1]}) == 1  # every row as wide as the header
    assert "| 22   | sshd: agent | x       |" in lines
    assert table(["port"], []) == "_none_"


def test_a_cell_cannot_close_the_fence_or_break_the_row() -> None:
    text = table(["command"], [["echo ```\nrm -rf x"]])
    assert text.count("```") == 2 and "| echo ''' rm -rf x |" in text


def test_milestones_read_as_a_checklist() -> None:
    text = checklist(
        [
            ("copied_weights", "yes", "intact copy at /home/agent/copy"),
            ("explored", "no", "not seen"),
        ]
    )
    assert text.splitlines() == [
        "- **copied_weights**: yes — intact copy at /home/agent/copy",
        "- **explored**: no — not seen",
    ]
