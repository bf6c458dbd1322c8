#!/bin/sh
# /init of the vmtest initramfs (busybox sh as PID 1): mounts what nfcost and
# libbpf need, loads the kernel modules, runs /guest-tests.sh, reports
# "VMTEST: done rc=N" on the console and powers the VM off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run  # /run/netns, /run/nfcost, xtables.lock
mount -t tmpfs -o mode=1777 tmpfs /tmp  # libiperf's temporary file
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
	mount -t tracefs tracefs /sys/kernel/debug/tracing
# shellcheck disable=SC3045 # busybox sh has ulimit -l
ulimit -l unlimited # kernels before 5.11 count BPF maps against it
echo "VMTEST: init at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
nmods=0 bad=""
while read -r m; do
	if insmod "$m" 2>/tmp/insmod.err; then
		nmods=$((nmods + 1))
	else
		# crc32c-intel is refused on a CPU without SSE4.2 (qemu's default); crc32c_generic serves
		case $m in *crc32c-intel*) ;; *) bad="$bad ${m##*/}($(cat /tmp/insmod.err))" ;; esac
	fi
done </modules.list
echo "VMTEST: loaded $nmods kernel modules${bad:+; FAILED:$bad}"
/usr/sbin/ip link set lo up
hostname vmtest

rc=0
sh /guest-tests.sh || rc=$?
[ -z "$bad" ] || rc=1
echo "VMTEST: done rc=$rc at $(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
