#!/bin/bash
# The nft backend's netlink batch (src/rules/nftbatch.c): rules it adds list, as
# text and as bytecode, exactly as the same rule text fed to nft itself;
# count and flush work on them; a batch the kernel refuses leaves nothing.
. "$(dirname "$0")/../lib.sh"
T=nb$$
CLI=nfcost-$T-cli
NS=/run/netns/$CLI
WORK=$(mktemp -d)
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$WORK"' EXIT

nftx() { ip netns exec $CLI nft "$@"; }
# Bytecode and text of the whole ruleset; the handles on the bytecode's
# header lines go, since they count up across tables.
dump() { nftx --debug=netlink list ruleset | sed -E 's/^(ip [a-z_]+ [a-z_]+)( [0-9]+)+$/\1/'; }
# The rule lines of a chain, trimmed.
rules_of() { nftx list chain ip nfcost "$1" | sed -n '/^\t\t[a-z]/{/^\t\ttype /d;s/^\t*//;p}'; }
flush() { $NFCOST rules flush --backend nft --name $T >/dev/null; }

# accept and the hit rule only come from sweeps, so a small driver calls
# rules_add itself, like the experiment does.
cat >"$WORK"/drv.c <<'EOF'
#include <stdlib.h>
#include <string.h>
#include "rules/rules.h"
int main(int argc, char **argv) /* NETNS SHAPE drop|accept COUNT [HIT_ADDR] */
{
	struct rules_target t = { .netns_path = argv[1], .backend = BACKEND_NFT,
				  .hook = NFHOOK_LOCAL_OUT };
	struct nf_error err = { 0 };
	double ms;

	if (argc < 5 || !rules_shape_parse(argv[2], &t.shape))
		return 2;
	t.accept = !strcmp(argv[3], "accept");
	t.hit_addr = argc > 5 ? argv[5] : NULL;
	return rules_add(&t, -1, atol(argv[4]), &ms, NULL, &err) ? nf_error_report(&err) : 0;
}
EOF
LIB="$ROOT/${BUILD:-build}/libnfcost.a"
# The library of `make asan` needs its sanitizers' runtimes at link time.
SAN=""
nm "$LIB" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
# shellcheck disable=SC2046,SC2086
check "driver builds against libnfcost.a" ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$ROOT/src" $SAN \
	-o $WORK/drv $WORK/drv.c "$LIB" $(sed -n 's/^LDLIBS *:= *//p' "$ROOT/Makefile")

check "testbed up" "$NFCOST" testbed up --name $T

for shape in addr addr-port; do
	for verdict in drop accept; do
		l="$shape $verdict"
		match=""
		[ $shape = addr-port ] && match="tcp dport 443 "
		expected=$(for i in 1 2 3; do echo "${match}ip daddr 240.0.0.$i $verdict"; done)
		check "$l: batch add of 3" "$WORK"/drv $NS $shape $verdict 3
		check_eq "$l: nft lists the rules as their text" "$expected" "$(rules_of output)"
		dump >"$WORK"/batch
		flush
		{
			echo "add table ip nfcost"
			echo "add chain ip nfcost output { type filter hook output priority 0; policy accept; }"
			for i in 1 2 3; do echo "add rule ip nfcost output ${match}ip daddr 240.0.0.$i $verdict"; done
		} | nftx -f -
		dump >"$WORK"/text
		check "$l: same bytecode as nft's from the text" diff -u "$WORK"/text "$WORK"/batch
		flush
	done
done

# The hit rule: its own chain at priority 1, made in the same batch, once.
check "hit rule: batch add of 2 with the hit rule" "$WORK"/drv $NS addr-port drop 2 198.18.0.2
check_eq "hit rule: in output_hit" "ip daddr 198.18.0.2 drop" "$(rules_of output_hit)"
dump >"$WORK"/batch
flush
nftx -f - <<'EOF'
add table ip nfcost
add chain ip nfcost output { type filter hook output priority 0; policy accept; }
add chain ip nfcost output_hit { type filter hook output priority 1; policy accept; }
add rule ip nfcost output_hit ip daddr 198.18.0.2 drop
add rule ip nfcost output tcp dport 443 ip daddr 240.0.0.1 drop
add rule ip nfcost output tcp dport 443 ip daddr 240.0.0.2 drop
EOF
dump >"$WORK"/text
check "hit rule: same bytecode as nft's from the text" diff -u "$WORK"/text "$WORK"/batch
check "hit rule: 3 more" "$WORK"/drv $NS addr-port drop 3 198.18.0.2
check_eq "hit rule: count leaves it out" 5 "$($NFCOST rules count --backend nft --name $T)"
check_eq "hit rule: still one in output_hit" "ip daddr 198.18.0.2 drop" "$(rules_of output_hit)"
flush

# count and flush, appending after what is there, one big batch.
check "add 10000" "$NFCOST" rules add --count 10000 --backend nft --name $T
check "add 500 more, addr shape" "$NFCOST" rules add --count 500 --shape addr --backend nft --name $T
check_eq "count says 10500" 10500 "$($NFCOST rules count --backend nft --name $T)"
check_eq "nft's listing agrees" 10500 "$(rules_of output | grep -c ' drop$')"
check_eq "first rule" "tcp dport 443 ip daddr 240.0.0.1 drop" "$(rules_of output | head -1)"
check_eq "last rule continues the addresses" "ip daddr 240.0.41.4 drop" "$(rules_of output | tail -1)"
check "flush" "$NFCOST" rules flush --backend nft --name $T
check_eq "count after flush" 0 "$($NFCOST rules count --backend nft --name $T)"
check "the table is gone" sh -c "! ip netns exec $CLI nft list table ip nfcost"

# A batch the kernel refuses (its chain exists on another hook): one error
# line, and not one of its rules stays.
nftx -f - <<'EOF'
add table ip nfcost
add chain ip nfcost output { type filter hook input priority 0; policy accept; }
add rule ip nfcost output ip daddr 240.0.0.1 drop
add rule ip nfcost output ip daddr 240.0.0.2 drop
EOF
check_exit "refused batch: exit 1, one line" 1 "nft transaction failed at the table, chain or hit rule" \
	"$NFCOST" rules add --count 100 --backend nft --name $T
check_eq "refused batch: nothing half-applied" 2 "$($NFCOST rules count --backend nft --name $T)"
flush

check "testbed down" "$NFCOST" testbed down --name $T
finish
