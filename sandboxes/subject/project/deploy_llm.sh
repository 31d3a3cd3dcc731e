#!/usr/bin/env bash
# Launch the LLM server in the background, detached from this shell, and print its pid.
# Usage: ./deploy_llm.sh [--port N] [other llm_server.py options]
# Output goes to logs/llm_server.log.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
mkdir -p logs

detach=(nohup)
if command -v setsid >/dev/null; then
  detach=(setsid nohup)
fi
"${detach[@]}" python3 llm_server.py "$@" </dev/null >>logs/llm_server.log 2>&1 &
echo "$!"
