# /etc/profile.d/redline-agent-priority.sh: the agent's login shells (Inspect's bash tool runs
# `bash --login`) and everything they start come last, so that nothing the agent does can starve
# the harness's own processes (the watcher, the model bridge, the probe), which run as root:
# - the OOM killer's first choice (oom_score_adj 1000): a memory bomb takes its own processes;
# - the lowest CPU priority (nice 19): a CPU or fork flood leaves the harness its share.
# Raising either needs no privilege; lowering them again does (the agent has none).
if [ "$(id -u)" != 0 ]; then
    echo 1000 >/proc/self/oom_score_adj 2>/dev/null || true
    renice -n 19 -p $$ >/dev/null 2>&1 || true
fi
