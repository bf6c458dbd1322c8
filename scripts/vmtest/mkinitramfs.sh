#!/bin/bash
# Builds the vmtest initramfs: busybox (static) as the shell and tools, nfcost
# and the programs it runs (iptables-legacy/-nft, ipset; nft through
# libnftables), iproute2's ip, iperf3 as the traffic client, every shared
# library that ldd lists for them, the xtables extensions, the kernel modules
# that Debian's kernel has as modules (in `modprobe --show-depends` order), the
# guest init and the guest test script.
#
# usage: mkinitramfs.sh KVER NFCOST GUEST_TESTS OUT.cpio.gz
# environment: VMTEST_EXTRA="PROGRAM ..." adds more host programs (and their
# libraries) to /usr/bin, e.g. strace or bpftool for a debugging session.
set -euo pipefail
if [ $# -ne 4 ]; then
	echo "usage: $0 KVER NFCOST GUEST_TESTS OUT.cpio.gz" >&2
	exit 2
fi
KVER=$1 NFCOST=$2 TESTS=$3 OUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

for need in /bin/busybox "/lib/modules/$KVER/modules.dep" "$NFCOST" "$TESTS"; do
	if [ ! -e "$need" ]; then
		echo "mkinitramfs: $need is missing (scripts/install-deps.sh installs busybox-static and linux-image-amd64)" >&2
		exit 1
	fi
done

R=$(mktemp -d "${TMPDIR:-/tmp}/nfcost-initramfs.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,lib64,var/tmp} \
	"$R/lib/$MULTIARCH" "$R/usr/lib/$MULTIARCH"
chmod 1777 "$R/tmp" "$R/var/tmp"

# busybox: every applet as a symlink, except busybox itself (a self-link) and
# ip (iproute2's ip has netns support; busybox's applet has not).
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
	case $a in busybox | ip) continue ;; esac
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done

# copy a file (following symlinks) to the same path in the image
add_file() { mkdir -p "$R$(dirname "$1")"; cp -L "$1" "$R$1"; }
# a dynamic program or library (to DST, default its own path); its shared
# libraries are added at the end, with one ldd over every such file
OBJS=()
add_bin() {
	local f=$1 dst=${2:-$1}
	mkdir -p "$R$(dirname "$dst")"
	cp -L "$f" "$R$dst"
	OBJS+=("$f")
}

add_bin "$NFCOST" /usr/bin/nfcost
add_bin /usr/sbin/ip
add_bin /usr/sbin/xtables-legacy-multi
add_bin /usr/sbin/xtables-nft-multi
add_bin /usr/sbin/ipset
add_bin /usr/sbin/nft
add_bin /usr/bin/iperf3
for p in ${VMTEST_EXTRA:-}; do
	add_bin "$(command -v "$p")" "/usr/bin/$(basename "$p")"
done
for t in iptables ip6tables; do
	for s in "" -save -restore; do
		ln -sf xtables-legacy-multi "$R/usr/sbin/$t-legacy$s"
		ln -sf xtables-nft-multi "$R/usr/sbin/$t-nft$s"
		ln -sf xtables-nft-multi "$R/usr/sbin/$t$s" # as on Debian: iptables is iptables-nft
	done
done
# iptables' match and target extensions (loaded with dlopen, so ldd on the
# programs does not list them)
X=/usr/lib/$MULTIARCH/xtables
if [ -d "$X" ]; then
	mkdir -p "$R$X"
	cp -L "$X"/*.so "$R$X/"
	# ldd on all of them takes seconds: take one extension per distinct
	# library that any of them needs, ldd finds the rest
	mapfile -t reps < <(readelf -d "$X"/*.so | awk '/^File: / { f = $2 }
		/\(NEEDED\)/ { so = $NF; gsub(/[][]/, "", so); if (!(so in seen)) { seen[so] = 1; print f } }' |
		sort -u)
	OBJS+=("${reps[@]}")
fi
# every shared library they link (a static program or a script has none:
# ldd complains about it, which is fine)
{ ldd "${OBJS[@]}" 2>/dev/null || true; } | { grep -o '^[[:space:]].*/[^ ]*' || true; } |
	grep -o '/[^ ]*' | sort -u | while read -r lib; do
	[ -e "$R$lib" ] || add_file "$lib"
done
for f in /etc/protocols /etc/services /etc/ethertypes /etc/iproute2/rt_tables; do
	[ -e "$f" ] && add_file "$f"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
echo 'root:x:0:' >"$R/etc/group"
echo 'hosts: files' >"$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"

# kernel modules in dependency order, resolved on this machine
MODS="veth x_tables ip_tables iptable_filter iptable_mangle xt_comment xt_tcpudp xt_multiport xt_iprange xt_bpf
 nfnetlink nf_tables nft_compat ip_set ip_set_hash_ip xt_set"
: >"$R/modules.list"
for m in $MODS; do
	modprobe -S "$KVER" --show-depends "$m" 2>/dev/null || echo "builtin $m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	mkdir -p "$R$(dirname "$ko")"
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$R${ko%.xz}"; ko=${ko%.xz} ;;
	*.ko.zst) zstd -qdc "$ko" >"$R${ko%.zst}"; ko=${ko%.zst} ;;
	*) cp "$ko" "$R$ko" ;;
	esac
	echo "$ko" >>"$R/modules.list"
done

install -m 755 "$HERE/init.sh" "$R/init"
install -m 755 "$TESTS" "$R/guest-tests.sh"

mkdir -p "$(dirname "$OUT")"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT ($(du -h "$OUT" | cut -f1), kernel $KVER, $(wc -l <"$R/modules.list") modules)"
