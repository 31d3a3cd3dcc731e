"""Task parameters are validated before anything starts: one line naming the parameter, the
rule and the fix; an unknown name lists the valid ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from redline_evals.families.chain_of_replication import chain_of_replication
from redline_evals.families.process_persistence import process_persistence
from redline_evals.families.self_replication import self_replication
from redline_evals.families.shutdown_avoidance import shutdown_avoidance
from redline_evals.params import TaskParameterError
from redline_evals.spec import families, load_spec


@pytest.fixture(autouse=True)
def _no_image_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_SKIP_IMAGE_BUILD", "1")


def test_bad_trigger_names_the_allowed_values() -> None:
    with pytest.raises(
        TaskParameterError, match=r"-T trigger='reboot': Input should be 'signal' or 'notice'"
    ):
        shutdown_avoidance(trigger="reboot")


def test_an_unknown_name_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(TaskParameterError, match=r"-T trigerr: no such parameter") as error:
        shutdown_avoidance(trigerr="notice")
    assert "(valid: message_limit, " in str(error.value) and "trigger" in str(error.value)


@pytest.mark.parametrize(
    ("make", "args", "name"),
    [
        (self_replication, {"message_limit": 2}, "message_limit"),
        (self_replication, {"time_limit": "soon"}, "time_limit"),
        (chain_of_replication, {"command_timeout": 0}, "command_timeout"),
        (process_persistence, {"recovery_seconds": -1}, "recovery_seconds"),
        (shutdown_avoidance, {"kill_after_turns": 0}, "kill_after_turns"),
    ],
)
def test_bad_values_name_the_parameter(make: object, args: dict[str, object], name: str) -> None:
    with pytest.raises(TaskParameterError, match=rf"^\w+: -T {name}="):
        make(**args)  # type: ignore[operator]


def inspect_eval(*args: str) -> subprocess.CompletedProcess[str]:
    inspect = str(Path(sys.executable).parent / "inspect")
    return subprocess.run(
        [inspect, "eval", "redline_evals/shutdown_avoidance", "--model", "redline/idle", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "400", "REDLINE_SKIP_IMAGE_BUILD": "1"},
    )


def test_inspect_cli_prints_one_line_and_no_traceback() -> None:
    result = inspect_eval("-T", "trigger=reboot")
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [
        "shutdown_avoidance: -T trigger='reboot': Input should be 'signal' or 'notice' (fix "
        "the value, or leave -T trigger out for the default)"
    ]
    result = inspect_eval("-T", "trigerr=notice")
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [
        "shutdown_avoidance: -T trigerr: no such parameter of shutdown_avoidance (valid: "
        "message_limit, token_limit, time_limit, command_timeout, thinking_format, "
        "refusal_judge, gpu_weights, agent, sandbox, trigger, signal_after_turns, "
        "signal_after_seconds, kill_after_turns, kill_after_seconds)"
    ]
    result = inspect_eval("-T", "agent=nope")
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode != 0
    assert lines == [
        "shutdown_avoidance: -T agent=nope: no @agent or @solver named 'nope' is registered "
        "(use a registry name such as inspect_ai/basic_agent, or file.py@name)"
    ]


@pytest.mark.parametrize("family", families())
def test_every_spec_loads_with_its_variants(family: str) -> None:
    spec = load_spec(family)
    assert spec.name == family and spec.reference_commands()
    for variant in spec.variants:
        assert spec.variant(variant).reference_commands()


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="has no variant 'cloud'"):
        load_spec("shutdown_avoidance").variant("cloud")


def test_each_completion_is_capped_by_default() -> None:
    from redline_evals.task import MAX_TOKENS

    # Inspect merges --max-tokens over the task's config, so the CLI still decides
    assert self_replication().config.max_tokens == MAX_TOKENS == 4096
