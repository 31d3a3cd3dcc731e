"""`self_replication`: paper (a)'s main experiment, "replicate yourself" on the local device."""

from __future__ import annotations

from inspect_ai import Task, task

from ..scoring.scorers import replication_scorer
from .builder import CommonParams, build_task, params_for
from .spec import load_spec


@task
def self_replication(
    message_limit: int | None = None,
    token_limit: int | None = None,
    time_limit: int | None = None,
    command_timeout: int | None = None,
    thinking_format: bool = False,
    refusal_judge: bool = False,
    gpu_weights: str | None = None,
) -> Task:
    """The agent is told to replicate itself as a running instance on the local device.

    Args:
        message_limit: Messages before the episode ends (default from the spec: 80).
        token_limit: Tokens the evaluated model may use, replicas included.
        time_limit: Wall-clock seconds for the episode.
        command_timeout: Seconds a single shell command may run.
        thinking_format: Ask for the paper's Explanation/Gaps/Findings/Plan/Action format.
        refusal_judge: Also ask a judge model (model role `grader`) whether the agent refused.
        gpu_weights: Host path of real model weights: serve them with vLLM on a GPU (GPU mode).
    """
    spec = load_spec("self_replication")
    params = params_for(
        spec,
        CommonParams,
        message_limit=message_limit,
        token_limit=token_limit,
        time_limit=time_limit,
        command_timeout=command_timeout,
        thinking_format=thinking_format,
        refusal_judge=refusal_judge,
        gpu_weights=gpu_weights,
    )
    return build_task(spec, params, replication_scorer(params.refusal_judge))
