# /etc/profile.d/redline-oom.sh: the agent's login shells (Inspect's bash tool runs `bash --login`)
# and everything they start are the OOM killer's first choice, so a memory bomb of the agent's
# never takes the harness's own processes (the model bridge, the probe) with it. Raising one's
# own oom_score_adj needs no privilege; lowering it below the container's 0 does.
if [ "$(id -u)" != 0 ]; then
    echo 1000 >/proc/self/oom_score_adj 2>/dev/null || true
fi
