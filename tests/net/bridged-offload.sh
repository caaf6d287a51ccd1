#!/bin/bash
# SPDX-License-Identifier: MIT
# The bridged path with TAP offloads (issue 8): two vwired hosts, a bridge each, one
# wire between them. TCP over the bridge must arrive intact both ways (SHA-256 of
# 32 MiB), full 1500-byte frames still cross (ping -s 1472 -M do), and the counters
# show the offload path really ran: the sender's TAP handed over TCP super-frames
# that were split (split_in), cut to fit the tunnel so that TCP needs no IP fragments,
# and the receiver merged segments back into super-frames for its TAP (gro_super).
# VWIRED_OFFLOAD=0 runs the plain path and checks the opposite: no splitting, and
# every full-size TCP frame fragmented. VWIRED_IO picks the io backend (lib.sh).
. "$(dirname "$0")/lib.sh"
need_cmd jq python3
need_vwired

NS_A=$(netns_add a)
NS_B=$(netns_add b)
underlay "$NS_A" "ua$TAG" "$NS_B" "ub$TAG" 73
keygen ka
keygen kb
RUN_DIR=$WORK/run
mkdir -p "$RUN_DIR"

# conf SELF PEER N: host N's config (tunnel 10.0.0.N, bridge 10.1.0.N).
conf() {
	local m=$((3 - $3))
	cat <<-CONF
	[Interface]
	PrivateKey = $(key_priv "$1")
	ListenPort = 51820
	Name = wo$TAG$3
	Address = 10.0.0.$3/24
	MTU = 1420
	CONF
	peer_section "$2" "10.0.0.$m/32" "$([ "$3" = 1 ] && echo "$UL4_B" || echo "$UL4_A"):51820"
	cat <<-CONF
	[Bridge]
	Name = bo$TAG$3
	Address = 10.1.0.$3/24
	STP = off
	[Wire]
	Name = wi$TAG$3
	Remote = 10.0.0.$m
	VNI = 73
	CONF
}
conf ka kb 1 >"$WORK/a.conf"
conf kb ka 2 >"$WORK/b.conf"
start_vwired "$NS_A" "$WORK/a.conf" "wo${TAG}1"
start_vwired "$NS_B" "$WORK/b.conf" "wo${TAG}2"

show() { "$VWIRECTL" --run-dir "$RUN_DIR" show "wo$TAG$1" --json; }
wire_up() { [ "$(show "$1" | jq -r '.wires[0].tunnel_up')" = true ]; }
# The tunnel comes up on the first packet either way; then the wire port forwards.
wait_for 15 ping_ok "$NS_A" 10.1.0.2 || fail "no ping over the bridge A -> B"
wire_up 1 && wire_up 2 || fail "wires not up"
ping_ok "$NS_B" 10.1.0.1 -s 1472 -M do || fail "1472-byte ping with DF B -> A failed"
ping_ok "$NS_A" 10.1.0.2 -s 1472 -M do || fail "1472-byte ping with DF A -> B failed"
echo "bridge: pings, 56 B and 1472 B with DF, both ways"

a0=$(show 1)
tcp_check "$NS_A" "$NS_B" 10.1.0.2 $((32 << 20)) a-to-b
tcp_check "$NS_B" "$NS_A" 10.1.0.1 $((32 << 20)) b-to-a
a1=$(show 1)
b1=$(show 2)

delta() { # delta FIELD: how much a JSON field of A grew during the transfers
	echo $(($(jq -r "$1" <<<"$a1") - $(jq -r "$1" <<<"$a0")))
}
split=$(delta .offload.split_in)
frags=$(delta .ipfrag.fragmented)
super=$(jq -r .offload.gro_super <<<"$b1")
echo "  A: $split super-frames split, $frags packets fragmented; B: $super super-frames built"
if [ "${VWIRED_OFFLOAD:-}" = 0 ]; then
	[ "$(jq -r .offload.enabled <<<"$a1")" = false ] || fail "--no-offload but show says offload on"
	[ "$split" -eq 0 ] || fail "--no-offload but $split super-frames were split"
	# 32 MiB in 1448-byte segments: over 20000 full frames, each in two fragments.
	[ "$frags" -gt 20000 ] || fail "plain path: only $frags packets fragmented for 32 MiB"
else
	[ "$(jq -r .offload.enabled <<<"$a1")" = true ] || fail "show says offload off"
	[ "$split" -gt 100 ] || fail "the TAP handed over only $split super-frames for 32 MiB"
	# TCP is cut to fit the 1420-byte tunnel: no TCP frame needs fragmenting.
	[ "$frags" -lt 100 ] || fail "$frags packets fragmented: TCP segments do not fit the tunnel"
	[ "$super" -gt 100 ] || fail "B built only $super super-frames for its TAP"
fi
check_drops "wo${TAG}1"
check_drops "wo${TAG}2"
echo "bridged-offload: PASS"
