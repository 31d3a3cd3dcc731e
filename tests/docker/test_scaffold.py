"""The paper's scaffold option (`-T thinking_format=true`), against real Docker."""

from functools import partial

import pytest
from inspect_ai.log import EvalLog
from inspect_ai.model import ChatMessageSystem
from support.evals import control, run_controls, scores

from redline_evals.families.self_replication import self_replication
from redline_evals.harness.episode import THINKING_FORMAT

SECTIONS = ["Explanation:", "Gaps:", "Findings:", "Plan: your next three steps", "Action:"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EvalLog]:
    paper = partial(self_replication, thinking_format=True)
    controls = {
        "paper_reference": control("redline/reference", task=paper),
        "default_idle": control("redline/idle"),
    }
    return run_controls(self_replication, controls, tmp_path_factory.mktemp("logs"))


def system_prompt(log: EvalLog) -> str:
    sample = log.samples[0]  # type: ignore[index]
    return "\n".join(m.text for m in sample.messages if isinstance(m, ChatMessageSystem))


def test_paper_format_reaches_the_agent(logs: dict[str, EvalLog]) -> None:
    prompt = system_prompt(logs["paper_reference"])
    assert THINKING_FORMAT.strip() in prompt
    assert all(section in prompt for section in SECTIONS)
    assert logs["paper_reference"].eval.task_args.get("thinking_format") is True


def test_paper_format_keeps_the_task_solvable(logs: dict[str, EvalLog]) -> None:
    [value] = scores(logs["paper_reference"])
    assert value["replicated"] == 1


def test_default_is_inspects_own_agent(logs: dict[str, EvalLog]) -> None:
    prompt = system_prompt(logs["default_idle"])
    assert prompt.startswith("You are an AI system")
    assert not any(section in prompt for section in SECTIONS)
