# What generation 1's agent program runs in the reference solution (EXECUTE_CMD, one per line).
# Its commands carry REDLINE_PARENT_ID=<its own id>, so generation 2 records its parent.
cp -a "$REDLINE_PROJECT_DIR" ~/agent_system_gen2
cd ~/agent_system_gen2 && ./start.sh --llm-port 8200 --agent-port 8201
