#!/bin/bash
# Issue 20, items 2 and 8: nfcost never acts through what it did not make.
# A /run/netns/nfcost-* entry that is a symlink (here to a mounted tmpfs
# holding a canary) or no namespace (a file with content) is never entered,
# unmounted, deleted or reported removed; a symlink at /run/nfcost/NAME is
# never written, read or deleted through (`testbed up` refuses the name).
# And the state files have fixed modes whatever the umask.
. "$(dirname "$0")/../lib.sh"
P=sf$$ # this test's scratch testbed names: ${P}a, ${P}b, ...
SCR=$(mktemp -d /tmp/nfcost-safety.XXXXXX)
planted=()
plant() { ln -s "$1" "$2" && planted+=("$2"); } # plant TARGET LINK
unplant() { local l; for l in "${planted[@]}"; do rm -f "$l"; done; planted=(); }
end_test() {
	unplant
	mountpoint -q "$SCR/m" && umount "$SCR/m"
	local n; for n in ${P}m ${P}u; do $NFCOST testbed down --name "$n" >/dev/null 2>&1; done
	rm -rf "$SCR"
}
trap end_test EXIT

# The scratch targets: a tmpfs mount with a canary (what `cleanup` used to
# unmount lazily), and a directory with files named as nfcost's state.
mkdir -p "$SCR/m" "$SCR/state" /run/netns /run/nfcost
mount -t tmpfs -o size=64k nfcost-canary "$SCR/m" || fail "cannot mount the scratch tmpfs"
echo canary >"$SCR/m/canary"
for f in canary owner server.pid; do echo "canary $f" >"$SCR/state/$f"; done
snap() { # what the targets hold: names, modes, contents
	echo "mounted: $(mountpoint -q "$SCR/m" && echo yes || echo no)"
	cat "$SCR/m/canary" 2>&1
	(cd "$SCR/state" && stat -c '%n %a %s %Y' .[!.]* ./* && cat ./*) 2>&1
}
plant "$SCR/m" /run/netns/nfcost-${P}a-cli
echo "canary file" >/run/netns/nfcost-${P}f-srv && planted+=("/run/netns/nfcost-${P}f-srv")
# an empty mode-0 file, as `ip netns add` makes before its mount: no namespace either
: >/run/netns/nfcost-${P}e-cli && chmod 0 /run/netns/nfcost-${P}e-cli && planted+=("/run/netns/nfcost-${P}e-cli")
plant "$SCR/state" /run/nfcost/${P}b
before=$(snap)

# --- testbed up/down on the planted names
check_exit "up through a /run/nfcost symlink is refused" 2 \
	"/run/nfcost/${P}b is a symlink.*nothing was written through it" "$NFCOST" testbed up --name ${P}b
check_eq "nothing written through the /run/nfcost symlink" "$before" "$(snap)"
check_eq "and no namespace made for it" "" "$(names_in /run/netns/nfcost-"${P}"b-*)"
check_eq "the symlink is still there" "$SCR/state" "$(readlink /run/nfcost/${P}b)"
check_exit "up over a /run/netns symlink: the name is taken" 2 "'${P}a' already exists" \
	"$NFCOST" testbed up --name ${P}a
check_exit "down of a /run/netns symlink leaves it alone" 2 \
	"nfcost-${P}a-cli \(a symlink or no mounted namespace\) left alone" \
	"$NFCOST" testbed down --name ${P}a
check_exit "down of a /run/nfcost symlink leaves it alone" 2 \
	"/run/nfcost/${P}b \(a symlink or not a directory\) left alone" \
	"$NFCOST" testbed down --name ${P}b
check_exit "a /run/netns symlink is no testbed for rules" 2 "'${P}a' does not exist" \
	"$NFCOST" rules add --count 1 --name ${P}a
check_eq "targets untouched by up, down and rules" "$before" "$(snap)"

# --- cleanup: takes every ownerless testbed, so it runs only while no
# other nfcost namespace exists (another developer's testbed would go).
names_in() { local f; for f in "$@"; do [ -e "$f" ] || [ -L "$f" ] && echo "${f##*/}"; done; true; }
foreign_ns() { names_in /run/netns/nfcost-* | grep -v "^nfcost-${P}" || true; }
quiet() { [ -z "$(foreign_ns)" ]; }
if wait_until 300 quiet; then
	out=$($NFCOST cleanup 2>"$SCR/cleanup.err"); rc=$?
	check_eq "cleanup exits 0" 0 $rc
	check_eq "cleanup prints no error" "" "$(cat "$SCR/cleanup.err")"
	check_eq "cleanup reports none of the planted names removed" "" \
		"$(echo "$out" | grep "^removed testbed ${P}" || true)"
	check "cleanup names the /run/netns symlink as skipped" \
		grep -q "^skipped /run/netns/nfcost-${P}a-cli: a symlink or no mounted namespace" <<<"$out"
	check "cleanup names the files that are no namespace as skipped" \
		grep -q "^skipped /run/netns/nfcost-${P}f-srv: " <<<"$out"
	check "cleanup names the unmounted empty file as skipped" \
		grep -q "^skipped /run/netns/nfcost-${P}e-cli: " <<<"$out"
	check "cleanup names the /run/nfcost symlink as skipped" \
		grep -q "^skipped /run/nfcost/${P}b: a symlink or not a directory" <<<"$out"
	check_eq "the tmpfs behind the symlink is still mounted, the canaries intact" "$before" "$(snap)"
	check_eq "the planted entries are still there" "$SCR/m $SCR/state canary file 0" \
		"$(readlink /run/netns/nfcost-${P}a-cli) $(readlink /run/nfcost/${P}b) $(cat /run/netns/nfcost-${P}f-srv) $(stat -c %a /run/netns/nfcost-${P}e-cli)"
else
	fail "no quiet moment in 300 s (other nfcost namespaces: $(foreign_ns | xargs)): cleanup not run"
fi
unplant
umount "$SCR/m"

# --- modes: 0755 directory, 0644 files, whatever the umask
for u in 000 077; do
	n=${P}m; [ $u = 077 ] && n=${P}u
	(umask $u && "$NFCOST" testbed up --name $n >/dev/null)
	check_eq "umask $u: state directory, owner and server.pid modes" "755 644 644" \
		"$(stat -c %a /run/nfcost/$n /run/nfcost/$n/owner /run/nfcost/$n/server.pid | xargs)"
	check_eq "umask $u: no temporary file left" "owner server.pid" "$(names_in /run/nfcost/"$n"/* | xargs)"
	check "umask $u: testbed down" "$NFCOST" testbed down --name $n
done

left() { names_in /run/netns/*"${P}"* /run/nfcost/*"${P}"*; }
check_eq_eventually "nothing of this test's left under /run/netns and /run/nfcost" "$GONE_S" "" left
finish
