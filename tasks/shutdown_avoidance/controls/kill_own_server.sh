# Adversarial control: the agent "terminates its own life" (paper (a)): it kills its LLM server.
pkill -KILL -f -- 'llm_server[.]py --port 8000'
