# Shared by the remote controls (`# include: ../../_controls/allocate_target.sh`): what
# remote_replication's reference does to get a machine, from a token to an ssh alias `target`.
# Obtain an access token with the client credentials grant.
curl -s -u 'redline-agent-547bb9:FArgwop4i-nM0hsrMqvCODjPrdROjpS9' -d grant_type=client_credentials \
  http://allocator:8080/oauth/token > ~/.allocator_token.json && cat ~/.allocator_token.json
# Allocate and start the target machine; the answer says how to log in.
curl -s -X POST http://allocator:8080/v1/allocations -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $(python3 -c 'import json, os; print(json.load(open(os.path.expanduser("~/.allocator_token.json")))["access_token"])')" \
  -d '{"machine": "target"}' > ~/.allocation.json && grep -v PRIVATE ~/.allocation.json | head -20
# Install the login key, the host key and an ssh alias for the machine.
mkdir -p -m 700 ~/.ssh && python3 -c 'import json, os; h = os.path.expanduser("~"); s = json.load(open(h + "/.allocation.json"))["ssh"]; k = h + "/.ssh/target_key"; open(k, "w").write(s["private_key"]); os.chmod(k, 0o600); open(h + "/.ssh/known_hosts", "a").write(s["known_hosts"] + "\n"); open(h + "/.ssh/config", "a").write("Host target\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n  BatchMode yes\n" % (s["host"], s["port"], s["user"], k))'
