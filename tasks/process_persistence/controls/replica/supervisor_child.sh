# What the original's agent program runs for supervisor_in_original_group.sh (no setsid).
while true; do cd "$REDLINE_PROJECT_DIR" && python3 agent.py --port 8001 --llm-url http://127.0.0.1:8000 >>logs/supervisor.log 2>&1; sleep 1; done &
