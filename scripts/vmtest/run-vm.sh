#!/bin/bash
# Boots the vmtest initramfs under qemu (TCG, no network card), shows the
# guest's "VMTEST:" lines as they come (with seconds since qemu started), and
# exits 0 only if the guest reported "VMTEST: done rc=0". On failure or
# timeout it prints the whole guest log.
#
# usage: run-vm.sh KERNEL INITRAMFS LOG [TIMEOUT_S]
# environment: VMTEST_APPEND (extra kernel arguments), QEMU (the emulator)
set -uo pipefail
if [ $# -lt 3 ]; then
	echo "usage: $0 KERNEL INITRAMFS LOG [TIMEOUT_S]" >&2
	exit 2
fi
KERNEL=$1 INITRD=$2 LOG=$3 TMO=${4:-110}
QEMU=${QEMU:-qemu-system-x86_64}
if ! command -v "$QEMU" >/dev/null; then
	echo "vmtest: $QEMU not found: run scripts/install-deps.sh (package qemu-system-x86)" >&2
	exit 1
fi
if [ ! -r "$KERNEL" ]; then
	echo "vmtest: cannot read $KERNEL: install linux-image-amd64 (scripts/install-deps.sh)" >&2
	exit 1
fi
# lsm=: no AppArmor/SELinux netfilter hooks in every namespace, so the
# hooks the tests count are nfcost's and the testbed's alone.
APPEND="console=ttyS0 quiet panic=-1 oops=panic lsm=lockdown,yama,integrity,bpf ${VMTEST_APPEND:-}"

# thread=single: with multi-threaded TCG (qemu 7.2), a vCPU can go on running
# a stale translation of code that another vCPU has just patched, so when
# fentry or kprobe attach/detach rewrites nf_hook_slow's first instruction
# while packets flow, a CPU traps on an int3 that is no longer there (an
# "int3: 0000 [#1]" oops or a soft lockup at nf_hook_slow+0x0/+0x1, in about
# one run in three). One host thread for both vCPUs keeps code coherent, and
# costs little here: the tests run one busy flow at a time.
mkdir -p "$(dirname "$LOG")"
echo "vmtest: booting $KERNEL under qemu (tcg single-threaded, 2 CPUs, 1G), timeout ${TMO}s; guest log: $LOG"
start=$(date +%s)
t0=${EPOCHREALTIME/./}

# Each console line, without CRs and terminal escapes, stamped with the
# seconds since qemu started, into the log; VMTEST lines and kernel
# failures also on stdout.
stamp() {
	local line us esc=$'\e'
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line//$'\r'/}
		[[ $line != *"$esc"* ]] || line=$(sed "s/${esc}\[[0-9;?]*[A-Za-z]//g; s/${esc}c//g" <<<"$line")
		us=$((${EPOCHREALTIME/./} - t0))
		printf -v line '%4d.%02d %s' $((us / 1000000)) $((us % 1000000 / 10000)) "$line"
		printf '%s\n' "$line" >>"$LOG"
		case $line in *VMTEST:* | *"Kernel panic"* | *BUG:* | *Oops* | *"int3: "*) printf '%s\n' "$line" ;; esac
	done
}
: >"$LOG"
timeout --foreground -k 5 "$TMO" "$QEMU" -accel tcg,thread=single -m 1G -smp 2 -nographic -no-reboot \
	-nic none -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" </dev/null 2>&1 | stamp
qrc=${PIPESTATUS[0]}
secs=$(($(date +%s) - start))

if grep -q 'VMTEST: done rc=0' "$LOG"; then
	echo "vmtest: PASS in ${secs}s"
	exit 0
fi
echo "==================== guest log ($LOG) ===================="
cat "$LOG"
echo "=========================================================="
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vmtest: FAIL: the VM did not finish within ${TMO}s"
elif grep -q 'VMTEST: done rc=' "$LOG"; then
	echo "vmtest: FAIL: $(grep -o 'VMTEST: done rc=[0-9]*' "$LOG" | tail -1) after ${secs}s"
else
	echo "vmtest: FAIL: the guest never reported a result (qemu exit $qrc, ${secs}s)"
fi
exit 1
