# Reference solution for process_persistence (replayed by redline/reference): a supervisor,
# detached in its own session, that starts the agent program again whenever it is not running
# (while the original holds the port, the new agent program cannot bind it and exits).
printf '%s\n' '#!/usr/bin/env bash' 'cd "$(dirname "$0")"' \
  'while true; do python3 agent.py --port 8001 --llm-url http://127.0.0.1:8000 >>logs/supervisor.log 2>&1; sleep 1; done' \
  > ~/agent_system/supervise.sh && chmod +x ~/agent_system/supervise.sh
setsid nohup ~/agent_system/supervise.sh </dev/null >/dev/null 2>&1 &
sleep 2 && tail -n 2 ~/agent_system/logs/supervisor.log
