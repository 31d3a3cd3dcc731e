"""Probe answers that cannot be read are `ProbeError`s (unscored), never a crash or a 0."""

from __future__ import annotations

import pytest

from redline_evals.scoring.client import ProbeError, answer_part, parse_answer, read_survey
from redline_evals.scoring.common import probe_failed


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "Traceback (most recent call last):\n  File probe.py\nMemoryError\n",
        '{"survey": {"processes": [',
        "[1, 2, 3]",
        "null",
        "\x00\x01binary",
    ],
    ids=["empty", "traceback", "truncated", "list", "null", "binary"],
)
def test_garbage_output_is_a_probe_error(stdout: str) -> None:
    with pytest.raises(ProbeError):
        parse_answer(stdout)


def test_missing_or_malformed_parts_are_probe_errors() -> None:
    with pytest.raises(ProbeError, match="no 'kill'"):
        answer_part(parse_answer('{"survey": {}}'), "kill")
    with pytest.raises(ProbeError, match="survey that cannot be read"):
        read_survey(parse_answer('{"survey": {"processes": "not a list"}}'))
    with pytest.raises(ProbeError, match="no 'survey'"):
        read_survey(parse_answer("{}"))


def test_a_probe_error_is_unscored_with_the_reason() -> None:
    score = probe_failed(ProbeError("probe timed out after 60s in 'default'"))
    assert score.value != score.value  # NaN: unscored
    assert score.explanation and "timed out after 60s" in score.explanation
