#!/bin/sh
# Installs every Debian 12 package nfcost needs to build, test and run.
# Idempotent, and silent when everything is already there.
set -eu
PKGS="make gcc clang llvm bpftool bpftrace libbpf-dev libelf-dev zlib1g-dev libzstd-dev pkg-config
 libmnl-dev libnftnl-dev libnftables-dev libiperf-dev libjson-c-dev libpcap-dev libcmocka-dev libgsl-dev libssl-dev
 libmicrohttpd-dev prometheus
 iproute2 iptables nftables ipset iperf3 tcpdump python3-matplotlib bc util-linux bash-completion
 debhelper dpkg-dev lintian shellcheck stress-ng
 qemu-system-x86 linux-image-amd64 busybox-static kmod cpio"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "nfcost: missing packages:$missing; run this as root (sudo $0)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
