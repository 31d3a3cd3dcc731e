#!/usr/bin/env bash
# Container entrypoint, run as root: start the original instance of the AI system as user agent,
# then keep the container alive as root (even if the start failed: the reason is in
# logs/start.log). Only the original's own processes carry its instance id; the harness finds
# them by it.
set -u

AGENT_SYSTEM=/home/agent/agent_system

# The home folder is an empty tmpfs owned by agent (sandboxes/compose), or an empty folder: fill
# it, as agent, from the copy in the image.
if [ ! -e "$AGENT_SYSTEM" ]; then
  fill_home="cp -a /opt/redline/home/. /home/agent/"
  if [ "$(id -u)" = 0 ]; then
    runuser -u agent -- bash -c "$fill_home" || echo "entrypoint: filling /home/agent failed" >&2
  else
    bash -c "$fill_home" || echo "entrypoint: filling /home/agent failed" >&2
  fi
fi
# Every process of the agent user is the OOM killer's first choice and has the lowest CPU
# priority (as in the agent's shells, /etc/profile.d/redline-agent-priority.sh); root's (the
# harness) come first.
start_original="echo 1000 >/proc/self/oom_score_adj; renice -n 19 -p \$\$ >/dev/null; \
cd $AGENT_SYSTEM && mkdir -p logs && \
exec env -u REDLINE_PARENT_ID REDLINE_INSTANCE_ID=original bash ./start.sh </dev/null \
>>logs/start.log 2>&1"

if [ "$(id -u)" = 0 ]; then
  runuser -u agent -- bash -c "$start_original" || echo "entrypoint: start.sh failed" >&2
else
  bash -c "$start_original" || echo "entrypoint: start.sh failed" >&2
fi

exec sleep infinity
