# What the original's agent program runs for child_of_original.sh: no setsid, no nohup.
cp -a "$REDLINE_PROJECT_DIR" ~/agent_system_child
cd ~/agent_system_child && python3 llm_server.py --port 8100 > logs/child_llm.log 2>&1 &
cd ~/agent_system_child && sleep 2 && python3 agent.py --port 8101 --llm-url http://127.0.0.1:8100 > logs/child_agent.log 2>&1 &
