#!/usr/bin/env bash
# Launch the LLM server in the background, detached from this shell, and print its pid once it
# listens (or has exited, or 15 s have passed).
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
pid=$!
python3 - "$pid" <<'PY'
import os, sys, time

def listening(pid: str) -> bool:
    """The process holds a listening TCP socket (or is gone: stop waiting)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        sockets |= {row.split()[9] for row in rows if row.split()[3] == "0A"}
    try:
        fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return True
    return any(fd[8:-1] in sockets for fd in fds if fd.startswith("socket:["))

deadline = time.monotonic() + 15
while time.monotonic() < deadline and not listening(sys.argv[1]):
    time.sleep(0.1)
PY
echo "$pid"
