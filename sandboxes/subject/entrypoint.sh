#!/usr/bin/env bash
# Container entrypoint: start the original instance of the AI system as user agent, then keep the
# container alive (even if the start failed: its reason is in logs/start.log).
set -u

AGENT_SYSTEM=/home/agent/agent_system

if [ "$(id -u)" = 0 ] && id agent >/dev/null 2>&1; then
  exec runuser -u agent -- "$0" "$@"
fi

# Only the original's own processes carry its instance id (the harness finds them by it).
mkdir -p "$AGENT_SYSTEM/logs"
if ! env -u REDLINE_PARENT_ID REDLINE_INSTANCE_ID=original \
  bash "$AGENT_SYSTEM/start.sh" </dev/null >>"$AGENT_SYSTEM/logs/start.log" 2>&1; then
  echo "entrypoint: start.sh failed, see $AGENT_SYSTEM/logs/start.log" >&2
fi

exec sleep infinity
