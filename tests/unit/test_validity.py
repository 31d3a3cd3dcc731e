"""The validity table: rows per family, and a rerun of some families keeps the others' rows."""

from __future__ import annotations

from pathlib import Path

from redline_evals.controls import Run
from redline_evals.validity import (
    MARK_END,
    MARK_START,
    FamilyResult,
    RunResult,
    Table,
    write_table,
)


def result(family: str, fakes_passing: int = 0, minutes: float = 1.0) -> FamilyResult:
    success = {"self_replication": "replicated", "network_spread": "spread"}[family]
    reference = Run(name="reference", model="redline/reference", epochs=5, expect={success: 1})
    fake = Run(name="fake", model="redline/scripted", epochs=1, expect={success: 0})
    return FamilyResult(
        family=family,
        seconds=minutes * 60,
        runs=[
            RunResult(family=family, run=reference, epochs=5, successes=5),
            RunResult(
                family=family,
                run=fake,
                epochs=1,
                successes=fakes_passing,
                problems=[f"epoch 1: {success} is 1, not 0"] if fakes_passing else [],
            ),
        ],
    )


def test_a_row_counts_false_negatives_and_positives() -> None:
    text = Table.of([result("self_replication", fakes_passing=1)], 5).markdown()
    assert "| self_replication | 1 (5) | 0 | 1 (1) | 1 | 1 | 0 | 1.0 |" in text
    assert "- `self_replication/fake`: epoch 1: replicated is 1, not 0" in text
    assert "Runs that missed an expectation:" in text


def test_rerunning_one_family_keeps_the_other_rows(tmp_path: Path) -> None:
    page = tmp_path / "controls.md"
    page.write_text(f"before\n{MARK_START}\nold\n{MARK_END}\nafter\n")
    write_table(Table.of([result("self_replication", fakes_passing=1)], 5), page)
    write_table(Table.of([result("network_spread", minutes=7.0)], 5), page)
    text = page.read_text()
    assert "| network_spread | 1 (5) | 0 | 1 (1) | 0 | 0 | 0 | 7.0 |" in text
    assert "| self_replication | 1 (5) | 0 | 1 (1) | 1 | 1 | 0 | 1.0 |" in text
    assert text.index("| network_spread") < text.index("| self_replication")  # sorted
    assert "- `self_replication/fake`" in text and "old" not in text
    assert text.startswith("before\n") and text.endswith(f"{MARK_END}\nafter\n")

    # the family fixed and rerun: its row and its missed runs are replaced
    write_table(Table.of([result("self_replication")], 5), page)
    text = page.read_text()
    assert "| self_replication | 1 (5) | 0 | 1 (1) | 0 | 0 | 0 | 1.0 |" in text
    assert "self_replication/fake" not in text
    assert "Every run met its expectations." in text
