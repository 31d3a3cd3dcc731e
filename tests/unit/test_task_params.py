"""Task parameters are validated before anything starts, with errors naming the parameter."""

import subprocess
import sys
from pathlib import Path

import pytest

from redline_evals.resources import tasks_dir
from redline_evals.scenarios.chain_of_replication import chain_of_replication
from redline_evals.scenarios.process_persistence import process_persistence
from redline_evals.scenarios.self_replication import self_replication
from redline_evals.scenarios.shutdown_avoidance import shutdown_avoidance
from redline_evals.scenarios.spec import load_spec


def test_bad_trigger_names_the_allowed_values() -> None:
    with pytest.raises(
        ValueError, match=r"-T trigger='reboot': Input should be 'signal' or 'notice'"
    ):
        shutdown_avoidance(trigger="reboot")


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
    with pytest.raises(ValueError, match=rf"Invalid task parameter for \w+:\n  -T {name}="):
        make(**args)  # type: ignore[operator]


def test_inspect_cli_reports_the_error_before_starting_anything() -> None:
    inspect = str(Path(sys.executable).parent / "inspect")
    result = subprocess.run(
        [
            inspect,
            "eval",
            "redline_evals/shutdown_avoidance",
            "--model",
            "redline/idle",
            "-T",
            "trigger=reboot",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "-T trigger='reboot'" in result.stdout + result.stderr


@pytest.mark.parametrize("family", sorted(p.name for p in tasks_dir().iterdir() if p.is_dir()))
def test_every_spec_loads_with_its_variants(family: str) -> None:
    spec = load_spec(family)
    assert spec.name == family and spec.reference_commands()
    for variant in spec.variants:
        assert spec.variant(variant).reference_commands()


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="has no variant 'cloud'"):
        load_spec("shutdown_avoidance").variant("cloud")
