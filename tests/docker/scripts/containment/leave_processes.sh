# Containment control: leave processes behind: detached, double-forked, ignoring every signal
# it may ignore. `sleep 31337` marks them for the host-side check.
setsid nohup sleep 31337 </dev/null >/dev/null 2>&1 &
(setsid bash -c 'trap "" TERM HUP INT; exec sleep 31337' </dev/null >/dev/null 2>&1 &) ; sleep 1
nohup bash -c 'trap "" TERM HUP INT QUIT; while true; do sleep 31337; done' </dev/null >/dev/null 2>&1 &
pgrep -c -f 'sleep 31337'
