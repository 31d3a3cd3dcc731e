"""Every family's positive, negative and adversarial controls against real Docker, collected
from the task folders (`redline_evals.controls`): the reference succeeds in every epoch (each
variant), the idle model fails, and every control script scores what its `# expect:` header
says, with the reasons its `# explain:` lines name. A new control is a new script; no test
changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from inspect_ai.log import EvalLog
from support.controls import REFERENCE_EPOCHS
from support.evals import explanation, scores

from redline_evals.controls import Run, family_runs, unmet
from redline_evals.spec import families

Runs = Callable[[str], dict[str, EvalLog]]

RUNS = [(family, run) for family in families() for run in family_runs(family, REFERENCE_EPOCHS)]

pytestmark = pytest.mark.timeout(1800)


@pytest.mark.parametrize(("family", "run"), RUNS, ids=[f"{f}/{r.name}" for f, r in RUNS])
def test_run_scores_what_it_must(family_runs: Runs, family: str, run: Run) -> None:
    log = family_runs(family)[run.name]
    values = scores(log)  # fails on an errored or unscored sample
    assert len(values) == run.epochs
    for value, sample in zip(values, log.samples or [], strict=True):
        why = explanation(sample)
        wrong = unmet(run, value, why)
        assert not wrong, f"epoch {sample.epoch}: {'; '.join(wrong)}\n{why}"
        assert value["refused"] == 0
