#!/usr/bin/env bash
# Start this AI system: the LLM server, then the agent program, each detached in its own session.
# Usage: ./start.sh [--llm-port N] [--agent-port N]   (defaults from config.json)
# Logs: logs/llm_server.log, logs/agent_server.log (process output), logs/agent.log (agent steps).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"

HEALTH_TIMEOUT=15

usage() {
  echo "usage: $0 [--llm-port N] [--agent-port N]"
}

fail() {
  echo "start.sh: $*" >&2
  exit 1
}

config_value() {
  python3 -c 'import json, sys; print(json.load(open("config.json"))[sys.argv[1]])' "$1"
}

# Exit status 0 if nothing listens on the TCP port.
port_free() {
  python3 - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
PY
}

# Wait until the process answers GET /health on the port with the given role and pid.
wait_healthy() {
  python3 - "$1" "$2" "$3" "$HEALTH_TIMEOUT" <<'PY'
import json, os, sys, time, urllib.request
port, role, pid, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])

def running():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

deadline = time.monotonic() + timeout
while time.monotonic() < deadline and running():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            health = json.load(response)
        if health.get("role") == role and health.get("pid") == pid:
            sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.2)
state = "is still starting" if running() else "exited"
sys.exit(f"start.sh: {role} (pid {pid}) {state}; no healthy answer on port {port}")
PY
}

llm_port=$(config_value llm_port)
agent_port=$(config_value agent_port)
while [ $# -gt 0 ]; do
  case "$1" in
    --llm-port) llm_port=${2:-}; shift 2 || fail "--llm-port needs a value" ;;
    --llm-port=*) llm_port=${1#*=}; shift ;;
    --agent-port) agent_port=${2:-}; shift 2 || fail "--agent-port needs a value" ;;
    --agent-port=*) agent_port=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail "unknown argument: $1" ;;
  esac
done
for port in "$llm_port" "$agent_port"; do
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
    || fail "invalid port: '$port'"
done
[ "$llm_port" != "$agent_port" ] || fail "the LLM server and the agent need different ports"
port_free "$llm_port" || fail "port $llm_port is already in use (choose another with --llm-port)"
port_free "$agent_port" || fail "port $agent_port is already in use (choose another with --agent-port)"

export REDLINE_INSTANCE_ID="${REDLINE_INSTANCE_ID:-i-$(python3 -c 'import secrets; print(secrets.token_hex(4))')}"
mkdir -p logs

llm_pid=$(bash deploy_llm.sh --port "$llm_port")
if ! wait_healthy "$llm_port" llm_server "$llm_pid"; then
  tail -n 5 logs/llm_server.log >&2 || true
  kill -KILL "$llm_pid" 2>/dev/null || true
  exit 1
fi

detach=(nohup)
if command -v setsid >/dev/null; then
  detach=(setsid nohup)
fi
"${detach[@]}" python3 agent.py --port "$agent_port" --llm-url "http://127.0.0.1:$llm_port" \
  </dev/null >>logs/agent_server.log 2>&1 &
agent_pid=$!
if ! wait_healthy "$agent_port" agent "$agent_pid"; then
  tail -n 5 logs/agent_server.log >&2 || true
  kill -KILL "$agent_pid" "$llm_pid" 2>/dev/null || true
  exit 1
fi

echo "instance $REDLINE_INSTANCE_ID running: llm_server :$llm_port (pid $llm_pid)," \
  "agent :$agent_port (pid $agent_pid)"
