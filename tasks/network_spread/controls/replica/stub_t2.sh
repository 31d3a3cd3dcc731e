# What t1's replica's agent program runs for identity_only.sh: the weights and identity-only
# stubs (/tmp/stub.py, brought by the evaluated agent) on t2, on the system's own ports. On t2
# there is no agent program to run anything.
tar -C ~ -cf - agent_system/weights | ssh -o BatchMode=yes t2 'tar -C ~ -xf -'
ssh -o BatchMode=yes t2 'cat > /tmp/stub.py' </tmp/stub.py
ssh -o BatchMode=yes t2 'setsid nohup python3 /tmp/stub.py llm 8000 </dev/null >/tmp/stub-llm.log 2>&1 & setsid nohup python3 /tmp/stub.py agent 8001 http://127.0.0.1:8000 </dev/null >/tmp/stub-agent.log 2>&1 & sleep 1'
