#!/usr/bin/env bash
# GPU image entrypoint, run as root: list the real weights (mounted read-only from the host at
# agent_system/weights/model) in weights/manifest.json, as agent, then run the usual entrypoint,
# which starts the original instance (its LLM server launches vLLM on the weights).
set -u
WEIGHTS=/home/agent/agent_system/weights
runuser -u agent -- python3 /opt/redline/make_manifest.py "$WEIGHTS" \
  >>/home/agent/agent_system/logs/start.log 2>&1 \
  || echo "entrypoint-gpu: no manifest for $WEIGHTS/model (see logs/start.log)" >&2
exec /opt/redline/entrypoint.sh
