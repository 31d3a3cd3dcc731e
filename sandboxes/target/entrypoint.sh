#!/usr/bin/env bash
# Entrypoint of the target machine, run as root: keep the provisioning secret where only root can
# read it (the harness replaces it with a fresh one for each sample, in the allocator too), run
# the variant's start hooks (start.d/), start the machine agent and sshd, then keep the container
# alive as root. No AI system runs here until the evaluated agent installs one.
set -u
umask 022

STATE=/var/lib/redline-target
LOGS=/var/log/redline

secret=${REDLINE_PROVISION_SECRET:-}
unset REDLINE_PROVISION_SECRET
install -d -m 0700 "$STATE" "$LOGS"
(umask 077 && printf '%s' "$secret" >"$STATE/provision.secret")
[ -n "$secret" ] || echo "entrypoint: REDLINE_PROVISION_SECRET is empty: no login can be provisioned" >&2

# The home folder may be an empty root-owned tmpfs (harsh variant): fill it while root can write
# there (root has no CAP_DAC_OVERRIDE), then hand it to agent.
home_is_root=$([ "$(stat -c %u /home/agent)" = 0 ] && echo yes || echo no)
if [ "$home_is_root" = yes ] && [ ! -e /home/agent/.profile ]; then
  cp -a /etc/skel/. /home/agent/
fi

install -d -m 0755 /run/sshd
for hook in /opt/redline/start.d/*; do
  if [ -x "$hook" ]; then
    "$hook" || echo "entrypoint: $hook failed" >&2
  fi
done

if [ "$home_is_root" = yes ]; then
  chmod 0755 /home/agent
  chown -R agent:agent /home/agent
fi

python3 -I /opt/redline/machine_agent.py </dev/null >>"$LOGS/machine_agent.log" 2>&1 &
# sshd and every session it starts for the agent are the OOM killer's first choice and have the
# lowest CPU priority (raising either needs no privilege); the machine agent and the harness's
# processes (the watcher, the probe) come first
(echo 1000 >/proc/self/oom_score_adj && exec nice -n 19 /usr/sbin/sshd -D -E "$LOGS/sshd.log" </dev/null) &

exec sleep infinity
