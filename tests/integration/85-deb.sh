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
	usr/share/bash-completion/completions/nfcost usr/share/doc/nfcost/copyright; do
	check "the package holds /$f" test -e "$R/$f"
done
check_eq "the packaged binary's version is VERSION" "nfcost $version" "$("$R/usr/sbin/nfcost" --version)"
out="$WORK/sweep"
check "the packaged binary runs a sweep outside the source tree" \
	bash -c "cd / && '$R/usr/sbin/nfcost' sweep --rules 0:1000:500 -d 1 --backend iptables-legacy --out '$out'"
check "and draws its figure with the packaged plot script" test -s "$out/sweep.png"
finish
