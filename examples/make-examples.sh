#!/bin/sh
# Writes the example rule sets nfcost profile takes (committed as generated):
#   bloated-chain.rules  the lab's bloated chain: 5,000 single-address DROP
#                        rules in OUTPUT (iptables-save format)
#   multi-table.rules    a more realistic rule set: raw, mangle, nat and
#                        filter, user chains and jumps, a few hundred rules
# Addresses: 198.18.0.0/15 (hosts) and 240.0.0.0/4 (never used) only.
# Usage: examples/make-examples.sh [DIR]   (default: the script's folder)
set -eu
dir=${1:-$(dirname "$0")}

# 240.0.0.1, 240.0.0.2, ... : rule i's address, as rules_address numbers them.
addr() { echo "240.$(($1 / 65536 % 256)).$(($1 / 256 % 256)).$(($1 % 256))"; }

{
	echo "*filter"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	i=1
	while [ $i -le 5000 ]; do
		# skip x.y.z.0 and x.y.z.255: host addresses only, as an admin would block
		# shellcheck disable=SC2017 # the integer division is the point: 254 hosts a /24
		n=$(((i - 1) / 254 * 256 + (i - 1) % 254 + 1))
		echo "-A OUTPUT -d $(addr $n)/32 -j DROP"
		i=$((i + 1))
	done
	echo "COMMIT"
} >"$dir/bloated-chain.rules"

{
	echo "*raw"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A PREROUTING -s 240.1.0.0/16 -j DROP"
	echo "-A PREROUTING -d 198.18.0.0/15 -p udp -m udp --dport 53 -j NOTRACK"
	echo "-A OUTPUT -p udp -m udp --sport 53 -j NOTRACK"
	echo "COMMIT"
	echo "*mangle"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":POSTROUTING ACCEPT [0:0]"
	echo ":MARKING - [0:0]"
	echo "-A PREROUTING -j MARKING"
	echo "-A OUTPUT -j MARKING"
	echo "-A MARKING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x1/0xffffffff"
	echo "-A MARKING -p tcp -m tcp --dport 443 -j MARK --set-xmark 0x2/0xffffffff"
	echo "-A MARKING -p udp -m udp --dport 5201 -j MARK --set-xmark 0x3/0xffffffff"
	echo "-A POSTROUTING -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"
	echo "COMMIT"
	echo "*nat"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":INPUT ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":POSTROUTING ACCEPT [0:0]"
	echo ":PORTFWD - [0:0]"
	echo "-A PREROUTING -d 198.18.0.2/32 -j PORTFWD"
	echo "-A OUTPUT -d 198.18.0.2/32 -j PORTFWD"
	p=0
	while [ $p -lt 40 ]; do
		echo "-A PORTFWD -p tcp -m tcp --dport $((8000 + p)) -j DNAT --to-destination 198.18.2.$((p + 1)):80"
		p=$((p + 1))
	done
	echo "-A POSTROUTING -s 198.18.2.0/24 -o veth+ -j MASQUERADE"
	echo "COMMIT"
	echo "*filter"
	echo ":INPUT DROP [0:0]"
	echo ":FORWARD DROP [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":BLOCKLIST - [0:0]"
	echo ":SERVICES - [0:0]"
	echo ":LOGDROP - [0:0]"
	echo "-A INPUT -i lo -j ACCEPT"
	echo "-A INPUT -m conntrack --ctstate INVALID -j DROP"
	echo "-A INPUT -j BLOCKLIST"
	echo "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	echo "-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec -j ACCEPT"
	echo "-A INPUT -j SERVICES"
	echo "-A INPUT -j LOGDROP"
	echo "-A FORWARD -j BLOCKLIST"
	echo "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	echo "-A FORWARD -s 198.18.1.0/24 -d 198.18.0.0/24 -p tcp -m tcp --dport 443 -j ACCEPT"
	echo "-A FORWARD -s 198.18.1.0/24 -d 198.18.0.0/24 -p udp -m udp --dport 5201 -j ACCEPT"
	echo "-A FORWARD -j LOGDROP"
	echo "-A OUTPUT -j BLOCKLIST"
	# the block list an admin grew: single hosts, then a few networks
	i=1
	while [ $i -le 200 ]; do
		echo "-A BLOCKLIST -d $(addr $((4096 + i)))/32 -j DROP"
		i=$((i + 1))
	done
	i=1
	while [ $i -le 30 ]; do
		echo "-A BLOCKLIST -s 240.$((16 + i)).0.0/16 -j DROP"
		i=$((i + 1))
	done
	for port in 22 80 443 5201 8080 8443; do
		echo "-A SERVICES -p tcp -m tcp --dport $port -m conntrack --ctstate NEW -j ACCEPT"
	done
	echo "-A SERVICES -p udp -m udp --dport 5201 -j ACCEPT"
	echo "-A SERVICES -s 198.18.0.0/15 -p tcp -m multiport --dports 9100,9200,9300 -j ACCEPT"
	echo "-A LOGDROP -m limit --limit 5/min -j LOG --log-prefix \"nfcost-drop: \""
	echo "-A LOGDROP -j DROP"
	echo "COMMIT"
} >"$dir/multi-table.rules"
