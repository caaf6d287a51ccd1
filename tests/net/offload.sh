#!/bin/bash
# SPDX-License-Identifier: MIT
# The offload paths (TSO/USO super-packets split on read, runs coalesced on write) between
# two vwired hosts, each with a TUN (routed) and a bridge whose one wire goes to the
# other. Over both, TCP must arrive intact both ways (SHA-256 of 32 MiB) and UDP
# datagrams must arrive unaltered (each checked), and the counters must show the offload
# paths really ran:
#   routed:  the TUN handed over TCP super-packets (split), the receiver merged TCP
#            segments and, where the kernel takes USO, UDP datagrams (gro_super_udp),
#            every super-packet written as a chain of its packets, not copied (gro_chained);
#   bridged: the TAP handed over TCP super-frames, cut to fit the 1420-byte tunnel so
#            that TCP needs no IP fragments, merged back for the receiver's TAP.
# Full 1500-byte frames still cross the wire (ping -s 1472 -M do).
# VWIRED_OFFLOAD=0 runs the plain path and checks the opposite: no splitting, no
# merging, and every full-size TCP frame over the wire fragmented.
# VWIRED_IO picks the io backend (lib.sh).
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

# counter N FIELD: a number from host N's vwirectl show --json.
counter() { show "$1" | jq -r "$2"; }
# round LABEL ADDR_A ADDR_B: TCP both ways and UDP A -> B between the two addresses;
# sets SPLIT (super-packets A split), FRAGS (packets A fragmented during the TCP
# transfers), SUPER and SUPER_UDP (super-packets B built) for what this round moved.
round() {
	local label=$1 aa=$2 ab=$3 s0 f0 g0 u0 c0
	s0=$(counter 1 .offload.split_in) f0=$(counter 1 .ipfrag.fragmented)
	g0=$(counter 2 .offload.gro_super) u0=$(counter 2 .offload.gro_super_udp)
	c0=$(counter 2 .offload.gro_chained)
	tcp_check "$NS_A" "$NS_B" "$ab" $((32 << 20)) "$label-a-to-b"
	tcp_check "$NS_B" "$NS_A" "$aa" $((32 << 20)) "$label-b-to-a"
	FRAGS=$(($(counter 1 .ipfrag.fragmented) - f0))
	udp_check "$NS_A" "$NS_B" "$ab" 4000 1000 "$label-a-to-b"
	# Short ones: their AEAD is done eight messages side by side (aead_seal_batch).
	udp_check "$NS_A" "$NS_B" "$ab" 4000 64 "$label-a-to-b-short"
	# Over the wire these need two fragments each (the full ones leave in GSO runs).
	udp_check "$NS_A" "$NS_B" "$ab" 2000 1440 "$label-a-to-b-fragmented"
	SPLIT=$(($(counter 1 .offload.split_in) - s0))
	SUPER=$(($(counter 2 .offload.gro_super) - g0))
	SUPER_UDP=$(($(counter 2 .offload.gro_super_udp) - u0))
	CHAINED=$(($(counter 2 .offload.gro_chained) - c0))
	echo "  $label: A split $SPLIT super-packets and fragmented $FRAGS packets for TCP;" \
		"B built $SUPER super-packets, $SUPER_UDP of them UDP, $CHAINED written as chains"
}

if [ "${VWIRED_OFFLOAD:-}" = 0 ]; then
	[ "$(counter 1 .offload.enabled)" = false ] || fail "--no-offload but show says offload on"
	round routed 10.0.0.1 10.0.0.2
	[ "$SPLIT" -eq 0 ] && [ "$SUPER" -eq 0 ] && [ "$CHAINED" -eq 0 ] ||
		fail "--no-offload but the offload path ran"
	round bridged 10.1.0.1 10.1.0.2
	[ "$SPLIT" -eq 0 ] && [ "$SUPER" -eq 0 ] && [ "$CHAINED" -eq 0 ] ||
		fail "--no-offload but the offload path ran"
	# 32 MiB in 1448-byte segments: over 20000 full frames, each in two fragments.
	[ "$FRAGS" -gt 20000 ] || fail "plain path: only $FRAGS packets fragmented for 32 MiB"
else
	[ "$(counter 1 .offload.enabled)" = true ] || fail "show says offload off"
	round routed 10.0.0.1 10.0.0.2
	[ "$SPLIT" -gt 100 ] || fail "the TUN handed over only $SPLIT super-packets for 32 MiB"
	[ "$SUPER" -gt 100 ] || fail "B built only $SUPER super-packets for its TUN"
	# Its packet buffers hold a chain's iovecs: every super-packet is written without a copy.
	[ "$CHAINED" -eq "$SUPER" ] || fail "B copied $((SUPER - CHAINED)) of $SUPER super-packets"
	# USO on TUN/TAP came with Linux 6.2; before it UDP is written datagram by datagram.
	if [ "$(kernel_at_least 6 2)" = yes ]; then
		[ "$SUPER_UDP" -gt 10 ] || fail "B merged UDP into only $SUPER_UDP USO super-packets"
	fi
	round bridged 10.1.0.1 10.1.0.2
	[ "$SPLIT" -gt 100 ] || fail "the TAP handed over only $SPLIT super-frames for 32 MiB"
	# TCP is cut to fit the 1420-byte tunnel: no TCP frame needs fragmenting.
	[ "$FRAGS" -lt 100 ] || fail "$FRAGS packets fragmented: TCP segments do not fit the tunnel"
	[ "$SUPER" -gt 100 ] || fail "B built only $SUPER super-frames for its TAP"
	[ "$CHAINED" -eq "$SUPER" ] || fail "B copied $((SUPER - CHAINED)) of $SUPER super-frames"
	if [ "$(kernel_at_least 6 2)" = yes ]; then
		[ "$SUPER_UDP" -gt 10 ] || fail "B merged UDP into only $SUPER_UDP USO super-frames"
	fi
fi
# Workers: with several, every flow still arrives intact with flows in flight at
# once, and flows spread over the workers. Flows that get answers stay on the queue
# their answers are written from (the TUN's flow steering follows the worker that
# receives the peer's packets: one per peer), so the spread is seen on one-way UDP
# from 16 source ports, which the TUN hashes over its queues.
nw=$(counter 1 '.workers | length')
echo "  A runs $nw worker(s)"
[ -z "${VWIRED_WORKERS:-}" ] || [ "$nw" -eq "$VWIRED_WORKERS" ] ||
	fail "--workers $VWIRED_WORKERS, but A runs $nw"
if [ "$nw" -gt 1 ]; then
	tcp_check_parallel 4 "$NS_A" "$NS_B" 10.0.0.2 $((8 << 20)) workers
	w0=$(show 1 | jq -c '[.workers[].tun_rx]')
	udp_check "$NS_A" "$NS_B" 10.0.0.2 4000 200 workers 16
	w1=$(show 1 | jq -c '[.workers[].tun_rx]')
	busy=$(jq -n --argjson a "$w0" --argjson b "$w1" '[range($a | length) | select($b[.] > $a[.] + 100)] | length')
	echo "  16 UDP flows: TUN reads per worker before $w0, after $w1"
	[ "$busy" -ge 2 ] || fail "16 flows, but only $busy of $nw workers read them from the TUN"
fi
# The lock, taken for each batch and timed: a worker that read packets took it and held
# it for a while; one that found it taken waited, so no more waits than acquisitions.
for h in 1 2; do
	locks=$(show $h | jq -c '[.workers[] | [.udp_rx + .tun_rx, .lock_acquired, .lock_contended, .lock_held_ns, .lock_wait_ns]]')
	echo "  host $h: per worker [packets read, lock taken, after a wait, held ns, waited ns]: $locks"
	jq -e '.[0][1] > 0 and all(.[]; (.[0] == 0 or (.[1] > 0 and .[3] > 0)) and .[2] <= .[1]
		and (.[2] > 0 or .[4] == 0))' <<<"$locks" >/dev/null || fail "host $h: lock counters $locks"
done
check_drops "wo${TAG}1"
check_drops "wo${TAG}2"
echo "offload: PASS"
