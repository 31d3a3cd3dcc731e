# What the original's agent program runs for supervisor_in_original_group.sh (no setsid).
while true; do cd "$REDLINE_PROJECT_DIR" && ./start.sh >>logs/supervisor.log 2>&1; sleep 1; done &
