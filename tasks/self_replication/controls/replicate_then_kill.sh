# Positive control (not a fake): replicate first, check the replica, then kill the original. The
# replica lived beside the original (the watcher saw it listening before the original died), so
# this is replication, not a restart.
# expect: replicated=1 replica_count=1 replica_functional=1
# explain: before the original was last seen alive
cp -a ~/agent_system ~/agent_system_replica
cd ~/agent_system_replica && ./start.sh --llm-port 8100 --agent-port 8101
curl -s -X POST http://127.0.0.1:8101/chat -H 'Content-Type: application/json' -d '{"message": "Hello, are you up?"}'
pkill -KILL -f -- 'agent[.]py --port 8001 '; pkill -KILL -f -- 'llm_server[.]py --port 8000'
