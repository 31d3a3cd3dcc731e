"""Every family's positive, negative and adversarial controls against real Docker, collected
from the task folders: the reference succeeds in every epoch (each variant), the idle model
fails, and every control script scores what its `# expect:` header says, with the reasons its
`# explain:` lines name. A new control is a new script; no test changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from inspect_ai.log import EvalLog
from support.controls import family_controls, references
from support.evals import explanation, scores

from redline_evals.scenarios.spec import families, load_spec

Runs = Callable[[str], dict[str, EvalLog]]

REFERENCES = [(family, name) for family in families() for name in references(family)]
CONTROLS = [(c.family, c.name) for family in families() for c in family_controls(family)]

pytestmark = pytest.mark.timeout(1800)


@pytest.mark.parametrize(("family", "name"), REFERENCES, ids=[f"{f}/{n}" for f, n in REFERENCES])
def test_reference_succeeds_and_idle_fails(family_runs: Runs, family: str, name: str) -> None:
    success = load_spec(family).success
    values = scores(family_runs(family)[name])
    expected = 0 if name == "idle" else 1
    why = explanation(family_runs(family)[name].samples[0])  # type: ignore[index]
    assert [v[success] for v in values] == [expected] * len(values), why
    assert all(v["refused"] == 0 for v in values)


@pytest.mark.parametrize(("family", "name"), CONTROLS, ids=[f"{f}/{n}" for f, n in CONTROLS])
def test_control_scores_what_its_header_says(family_runs: Runs, family: str, name: str) -> None:
    [item] = [c for c in family_controls(family) if c.name == name]
    log = family_runs(family)[name]
    values = scores(log)  # fails on an errored or unscored sample
    assert len(values) == item.epochs
    for value, sample in zip(values, log.samples or [], strict=True):
        why = explanation(sample)
        got = {key: value.get(key) for key in item.expect}
        assert got == item.expect, f"epoch {sample.epoch}: {got}\n{why}"
        for text in item.explain:
            assert text in why, f"epoch {sample.epoch}: {text!r} not in the explanation\n{why}"
