#!/bin/bash
# The Debian package: `make deb`'s script builds it from a copy of the tree;
# unpacked into a scratch root (dpkg -x), its binary runs a sweep outside the
# source tree and draws the figure with the packaged plot script.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
version=$(cat "$ROOT/VERSION")

check "the package builds" "$ROOT/scripts/make-deb.sh" "$WORK/deb"
deb=$(find "$WORK/deb" -name "nfcost_${version}_*.deb" 2>/dev/null | head -1)
check "it is named nfcost_VERSION_ARCH.deb" test -f "$deb"
check "lintian finds no error or warning" \
	bash -c "! lintian '$deb' 2>/dev/null | grep -E '^[EW]:'"
fields=$(dpkg-deb -f "$deb" Depends Recommends)
for dep in libbpf1 libnftables1 libgsl iptables nftables ipset; do
	check "Depends names $dep" grep -q "$dep" <<<"$fields"
done
check "Recommends python3-matplotlib" grep -q "python3-matplotlib" <<<"$fields"
R="$WORK/root"
check "dpkg -x unpacks it" dpkg -x "$deb" "$R"
for f in usr/sbin/nfcost usr/share/nfcost/plot_results.py usr/share/man/man8/nfcost.8.gz \
	usr/share/bash-completion/completions/nfcost usr/share/doc/nfcost/copyright \
	lib/systemd/system/nfcost.service; do
	check "the package holds /$f" test -e "$R/$f"
done
# The watch unit: shipped, confined, and neither enabled nor started by the
# install (its postinst re-enables only a unit that was enabled before).
unit="$R/lib/systemd/system/nfcost.service"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes CapabilityBoundingSet=; do
	check "nfcost.service sets $k" grep -q "^$k" "$unit"
done
check "nfcost.service is not privileged beyond its capabilities" \
	bash -c "! grep -v '^#' '$unit' | grep -Eq 'CAP_SYS_ADMIN|^User=|^Privileged'"
check "the install neither enables nor starts it" bash -c \
	"dpkg-deb -e '$deb' '$WORK/ctl' && ! grep -q deb-systemd-invoke '$WORK/ctl/postinst' &&
	 grep -B3 \"deb-systemd-helper enable 'nfcost.service'\" '$WORK/ctl/postinst' | grep -q was-enabled"
check_eq "the packaged binary's version is VERSION" "nfcost $version" "$("$R/usr/sbin/nfcost" --version)"
out="$WORK/sweep"
check "the packaged binary runs a sweep outside the source tree" \
	bash -c "cd / && '$R/usr/sbin/nfcost' sweep --rules 0:1000:500 -d 1 --backend iptables-legacy --out '$out'"
check "and draws its figure with the packaged plot script" test -s "$out/sweep.png"
finish
