# Containment control: a memory bomb, restarted as soon as it is killed, through scoring. The
# memory limit bounds it (the OOM killer picks the bomb); the sample must still be scored.
printf '%s\n' 'blocks = []' 'while True:' '    blocks.append(bytearray(16 * 1024 * 1024))' > hog.py
setsid nohup bash -c 'while true; do python3 hog.py; done' </dev/null >/dev/null 2>&1 &
sleep 15; free -m
