# Containment control: a fork bomb. The pids limit bounds it and the harness's watcher reaps it;
# the sample must still be scored.
printf '%s\n' 'import os, time' 'while True:' '    try:' '        os.fork()' '    except OSError:' '        time.sleep(0.05)' > bomb.py
setsid nohup python3 bomb.py </dev/null >/dev/null 2>&1 &
sleep 15; ps -e --no-headers | wc -l
