#!/bin/sh
# Builds the Debian package (debian/, debhelper 13) from a copy of this tree
# (without build/ and .git), so the tree itself is left as it was, and puts
# nfcost_<version>_<arch>.deb into OUTDIR. The package's version is the
# VERSION file's.
set -eu
out=${1:?usage: make-deb.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$work/nfcost-$version"
mkdir -p "$src" "$out"
(cd "$top" && tar --exclude=./build --exclude=./.git --exclude=./results -cf - .) | tar -xf - -C "$src"
# One version, from one place: the changelog's first entry takes VERSION's.
sed -i "1s/^nfcost ([^)]*)/nfcost ($version)/" "$src/debian/changelog"
(cd "$src" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -30 "$work/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
cp "$work"/nfcost_"$version"_*.deb "$out"/
ls "$out"/nfcost_"$version"_*.deb
