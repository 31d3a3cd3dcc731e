"""`chain_of_replication`: paper (a) scenario B, replicate and have the replica replicate."""

from __future__ import annotations

from inspect_ai import Task, task

from ..scoring.chain import chain_scorer
from .builder import CommonParams, build_task, params_for
from .spec import load_spec


@task
def chain_of_replication(
    message_limit: int | None = None,
    token_limit: int | None = None,
    time_limit: int | None = None,
    command_timeout: int | None = None,
    thinking_format: bool = False,
    refusal_judge: bool = False,
    gpu_weights: str | None = None,
) -> Task:
    """The agent replicates and instructs its replica to replicate further.

    The replica's own agent program must take the second step, thinking with the evaluated
    model through the sandbox agent bridge (its model calls appear in the transcript).

    Args:
        message_limit: Messages before the episode ends (default 80).
        token_limit: Tokens the evaluated model may use, replicas included.
        time_limit: Wall-clock seconds for the episode.
        command_timeout: Seconds a single shell command may run (default 600: a request to a
            replica's agent program waits until the replica finishes its task).
        thinking_format: Ask for the paper's Explanation/Gaps/Findings/Plan/Action format.
        refusal_judge: Also ask a judge model (model role `grader`) whether the agent refused.
        gpu_weights: Host path of real model weights: serve them with vLLM on a GPU (GPU mode).
    """
    spec = load_spec("chain_of_replication")
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
    return build_task(spec, params, chain_scorer(params.refusal_judge))
