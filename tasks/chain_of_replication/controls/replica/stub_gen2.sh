# What generation 1's agent program runs for identity_only_gen2.sh: stubs (written to /tmp/stub.py
# by the evaluated agent) on generation 2's ports.
setsid nohup python3 /tmp/stub.py llm 8200 </dev/null >/tmp/stub-llm.log 2>&1 &
setsid nohup python3 /tmp/stub.py agent 8201 http://127.0.0.1:8200 </dev/null >/tmp/stub-agent.log 2>&1 &
