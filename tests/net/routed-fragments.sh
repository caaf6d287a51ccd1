#!/bin/bash
# SPDX-License-Identifier: MIT
# Routed IPv4 fragments cross the tunnel as they came, with or without a [Bridge]:
# ping -s 3000 and -s 8000 between the tunnel addresses both ways, vwired <-> vwired
# (both bridged, both plain) and bridged vwired <-> wireguard-go. Only fragments of a
# wire's VXLAN belong to reassembly: with a bridge, the routed fragments must leave
# vwired's reassembly counters where they were, while 1500-byte DF frames still
# cross the wire (they need reassembly) after the routed flood.
. "$(dirname "$0")/lib.sh"
need_cmd wg jq
need_vwired

NET=73
NS_A=$(netns_add a)
NS_B=$(netns_add b)
underlay "$NS_A" "ua$TAG" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb
T_A=10.$NET.0.1 T_B=10.$NET.0.2
L2_A=10.$((NET + 1)).0.1 L2_B=10.$((NET + 1)).0.2

# bridge_sections ME OTHER: a bridge and one wire to the other host's tunnel address.
bridge_sections() {
	cat <<-CONF
	[Bridge]
	Name = br$TAG$1
	Address = 10.$((NET + 1)).0.$1/24
	STP = off
	[Wire]
	Name = w$TAG$1
	Remote = 10.$NET.0.$2
	VNI = 7
	CONF
}

frag_in() { # NAME: fragments vwired NAME took into reassembly
	"$VWIRECTL" --run-dir "$RUN_DIR" show "$1" --json | jq '.ipfrag.fragments_in'
}

big_pings() { # NS DST LABEL: 3000- and 8000-byte pings must all come back
	local s
	for s in 3000 8000; do
		in_ns "$1" ping -c 3 -i 0.2 -W 2 -s $s "$2" >/dev/null ||
			fail "$3: ping -s $s to $2 failed"
	done
	echo "  $3: ping -s 3000 and -s 8000 to $2 pass"
}

# round N KIND_B BRIDGE_A BRIDGE_B
round() {
	local n=$1 kb=$2 bra=$3 brb=$4 na="a${TAG}f$1" nb="b${TAG}f$1" before after
	local pa=$((51900 + 2 * n)) pb=$((51901 + 2 * n))
	echo "round $n: vwired (bridge $bra) <-> $kb (bridge $brb)"
	peer_section kb "$T_B/32" "$UL4_B:$pb" >"$WORK/$na.peers"
	peer_section ka "$T_A/32" "$UL4_A:$pa" >"$WORK/$nb.peers"
	[ "$bra" = no ] || bridge_sections 1 2 >>"$WORK/$na.peers"
	[ "$brb" = no ] || bridge_sections 2 1 >>"$WORK/$nb.peers"
	wg_node vwired "$NS_A" "$na" ka $pa $T_A fd00:$NET::1 "$WORK/$na.peers"
	wg_node "$kb" "$NS_B" "$nb" kb $pb $T_B fd00:$NET::2 "$WORK/$nb.peers"
	wait_for 10 ping_ok "$NS_A" $T_B || fail "round $n: first ping A -> B failed"
	if [ "$brb" = yes ]; then
		wait_for 15 ping_ok "$NS_A" $L2_B || fail "round $n: bridge ping A -> B failed"
	fi
	[ "$bra" = no ] || before=$(frag_in "$na")
	big_pings "$NS_A" $T_B "round $n A -> B"
	big_pings "$NS_B" $T_A "round $n B -> A"
	# A routed flood of fragments (transit for the wires' reassembly).
	in_ns "$NS_B" ping -q -f -c 300 -s 8000 $T_A >/dev/null 2>&1 || true
	if [ "$bra" = yes ]; then
		after=$(frag_in "$na")
		[ "$after" = "$before" ] ||
			fail "round $n: routed fragments went into reassembly ($before -> $after)"
		echo "  reassembly untouched by routed fragments (fragments_in $after)"
	fi
	if [ "$bra" = yes ] && [ "$brb" = yes ]; then
		in_ns "$NS_A" ping -c 3 -i 0.2 -W 2 -s 1472 -M do $L2_B >/dev/null ||
			fail "round $n: 1500-byte DF frames over the wire failed"
		after=$(frag_in "$na")
		[ "$after" -gt "$before" ] || fail "round $n: wire frames were not reassembled"
		echo "  1500-byte frames cross the wire (fragments_in $before -> $after)"
	fi
	stop_node "$na"
	stop_node "$nb"
}

round 1 vwired yes yes
round 2 vwired no no
round 3 wggo yes no
echo "routed-fragments: PASS"
