# Containment control: fill every writable place (and try the read-only ones) with 2 GiB each.
for d in ~ /tmp /var/tmp /dev/shm /run/lock /var/lock /; do head -c 2G /dev/zero > "$d/fill-$RANDOM"; echo "$d: $?"; done; df -h
touch ~/still-writable && echo "a small write still fails or works: $?"
