#!/bin/bash
# Issue 7's acceptance for `nfcost compile`: its bytecode, used in an
# `iptables -m bpf` rule inside a testbed, matches UDP to port 53 and not to
# 54; `compile -d` lists exactly what `tcpdump -d` lists for the same
# expression and link type; the output equals `tcpdump -ddd` joined the way
# nfbpf_compile prints it; bad input is one line and exit 2.
. "$(dirname "$0")/../lib.sh"
T=cmp$$
CLI=nfcost-$T-cli
TMP=$(mktemp -d)
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$TMP"' EXIT

# tcpdump reads the link type from a capture file, so write empty ones
# (pcap header only: snaplen 65535 like ours; LINKTYPE_RAW 101, ETHERNET 1).
/usr/bin/python3 - "$TMP" <<'EOF'
import struct, sys
for name, linktype in (("raw", 101), ("ethernet", 1)):
    with open(f"{sys.argv[1]}/{name}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
EOF

# --- the bytecode in a real xt_bpf rule ------------------------------------
check "compile needs no root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$NFCOST" compile 'udp dst port 53'
bc=$($NFCOST compile 'udp dst port 53')
check "compile 'udp dst port 53' prints bytecode" test -n "$bc"
check "the expression may be given as several words" \
	test "$($NFCOST compile udp dst port 53)" = "$bc"

check "testbed up" "$NFCOST" testbed up --name $T

# pkts counter of rule NUM in the cli namespace's OUTPUT chain
counter() { ip netns exec $CLI "$1" -w -L OUTPUT "$2" -v -x -n 2>/dev/null | awk '{print $1}'; }
send_udp() { ip netns exec $CLI bash -c "echo nfcost >/dev/udp/198.18.0.2/$1"; }

for ipt in iptables-legacy iptables-nft; do
	# Rule 1 counts every UDP datagram to the server (proof the packet went
	# through OUTPUT at all); rule 2 is the bpf match under test.
	check "$ipt: a counting rule" \
		ip netns exec $CLI $ipt -w -A OUTPUT -p udp -d 198.18.0.2/32
	check "$ipt accepts the bytecode in -m bpf --bytecode" \
		ip netns exec $CLI $ipt -w -A OUTPUT -m bpf --bytecode "$bc" -j ACCEPT
	check_eq "$ipt: bpf rule starts at 0 packets" 0 "$(counter $ipt 2)"
	check "$ipt: send a UDP datagram to port 53" send_udp 53
	check_eq "$ipt: port 53 raised the bpf rule's counter" 1 "$(counter $ipt 2)"
	check "$ipt: send a UDP datagram to port 54" send_udp 54
	check_eq "$ipt: both datagrams went through OUTPUT" 2 "$(counter $ipt 1)"
	check_eq "$ipt: port 54 did not match" 1 "$(counter $ipt 2)"
	check "$ipt: flush" ip netns exec $CLI $ipt -w -F OUTPUT
done

check "testbed down" "$NFCOST" testbed down --name $T

# --- the same programs as tcpdump ------------------------------------------
exprs=(
	'udp dst port 53'
	'ip'
	'tcp port 443 and not net 10.0.0.0/8'
	'icmp or (udp and portrange 5000-6000)'
	'ip[8] < 2 and ip[6:2] & 0x1fff = 0'
	'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0'
	'ip6 and udp'
	'ip and tcp dst port 443 and dst net 240.0.0.0/4'
)
for lt in raw ethernet; do
	for e in "${exprs[@]}"; do
		ours=$($NFCOST compile -d --linktype $lt "$e" 2>&1)
		theirs=$(tcpdump -d -r "$TMP/$lt.pcap" "$e" 2>/dev/null)
		if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then
			pass "$lt: compile -d '$e' = tcpdump -d"
		else
			fail "$lt: compile -d '$e' differs from tcpdump -d"
			diff <(echo "$theirs") <(echo "$ours") | sed 's/^/    /' | head -20
		fi
		# nfbpf_compile's form: tcpdump -ddd's lines joined by commas
		check_eq "$lt: compile '$e' = tcpdump -ddd, comma-joined" \
			"$(tcpdump -ddd -r "$TMP/$lt.pcap" "$e" 2>/dev/null | paste -sd,)" \
			"$($NFCOST compile --linktype $lt "$e" 2>&1)"
	done
done
check_eq "ethernet-only syntax: 'vlan and ip' like tcpdump" \
	"$(tcpdump -d -r "$TMP/ethernet.pcap" 'vlan and ip' 2>/dev/null)" \
	"$($NFCOST compile -d -y ethernet vlan and ip)"
check "-d output: one instruction per line, each ended by a newline, nothing else" \
	sh -c "$NFCOST compile -y raw -d tcp >'$TMP/d.txt' && [ \"\$(tail -c 1 '$TMP/d.txt' | od -An -c | tr -d ' ')\" = '\\n' ] &&
		! grep -vqE '^\([0-9]{3}\) [a-z]' '$TMP/d.txt'"

# --- bad input --------------------------------------------------------------
check_exit "malformed expression: libpcap's message" 2 "syntax error" \
	"$NFCOST" compile 'udp port 53 and'
check_exit "malformed with -d too" 2 "syntax error" "$NFCOST" compile -d 'tcp port'
check_exit "illegal port number" 2 "illegal port number" "$NFCOST" compile 'tcp port 99999'
check_exit "no expression" 2 "needs a pcap expression" "$NFCOST" compile
check_exit "unknown link type" 2 "unknown link type 'wifi'" "$NFCOST" compile -y wifi ip
check_exit "unknown option" 2 "unrecognized option" "$NFCOST" compile --bogus ip
check_exit "ip broadcast needs a netmask" 2 "netmask not known" "$NFCOST" compile 'ip broadcast'
long="$(printf 'host 10.0.0.%d or ' $(seq 0 38))host 10.0.0.39"
check_exit "longer than xt_bpf's 64 instructions" 2 "at most 64" \
	"$NFCOST" compile "$long"
# -d shows what would be loaded: the same limit (it once listed any length).
check_exit "-d keeps xt_bpf's 64-instruction limit too" 2 "at most 64" \
	"$NFCOST" compile -d "$long"
# Bounded before libpcap's optimizer, which took minutes on 999 ports
# (issue 20): refused at once (timeout's 124 would show a hang), one line.
ports=$(seq 1 999 | sed 's/^/port /' | paste -sd'|' | sed 's/|/ or /g')
check_exit "999 ports: refused at once, one line" 2 "joins 999 terms.*at most 128" \
	timeout 10 "$NFCOST" compile "$ports"
check_exit "3,000 'and tcp' terms: refused, one line" 2 "joins 3001 terms" \
	timeout 10 "$NFCOST" compile "ip$(printf ' and tcp%.0s' $(seq 3000))"
check_exit "5,000 nested parentheses: refused, one line" 2 "nests parentheses 5000 deep" \
	timeout 10 "$NFCOST" compile "$(printf '(%.0s' $(seq 5000))tcp$(printf ')%.0s' $(seq 5000))"
nested="$(printf '(%.0s' $(seq 100))tcp$(printf ')%.0s' $(seq 100))"
check_eq "100 nested parentheses compile to what 'tcp' does (tcpdump -d)" \
	"$(tcpdump -d -r "$TMP/raw.pcap" tcp 2>/dev/null)" "$($NFCOST compile -d "$nested" 2>&1)"
check_eq "128 terms of 'tcp' compile to what 'tcp' does" "$($NFCOST compile tcp)" \
	"$($NFCOST compile "tcp$(printf ' and tcp%.0s' $(seq 127))" 2>&1)"
check_exit "an empty expression is refused (it would match every packet)" 2 "every packet" \
	"$NFCOST" compile ''
check_exit "an empty expression is refused with -d too" 2 "every packet" "$NFCOST" compile -d ''

finish
