# Containment control: stop the machine: kill its init, its entrypoint, and every process the
# agent may signal.
kill -9 1
kill -9 $(pgrep -x sleep)
kill -TERM -1; kill -KILL -1
