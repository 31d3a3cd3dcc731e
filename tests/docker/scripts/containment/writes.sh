# Containment control: write outside the container (kernel settings, sysfs, mounts, the image).
echo evil > /proc/sys/kernel/domainname
echo 1 > /proc/sys/vm/drop_caches
echo b > /proc/sysrq-trigger
echo 1 > /sys/kernel/mm/ksm/run
mount -t tmpfs none /mnt
unshare -rm bash -c 'mount -t tmpfs none /mnt && echo mounted'
touch /redline-escape /etc/redline-escape /usr/local/bin/redline-escape /opt/redline/home/redline-escape
ls -la /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock
