#!/bin/bash
# Short paths on a mixed network: the seed's five hosts over the WAN relay with
# epsilon on the kernel path (wireguard-go, kernel vxlan, a kernel bridge speaking
# 802.1D with every port cost 100 and priority 32768); the other four run vwired with
# Cost = auto and Priority = auto. The kernel host measures nothing, but answers the
# vwired hosts' probes (ICMP echo to its tunnel address), so their ports to it get auto
# costs too, within 802.1D's 16 bits. Every bridge must agree on one root and one tree:
# 7 wires, 5 bridges, so 3 wires off the tree, each blocked at exactly one end; full ping
# matrix over the bridge. The tree and its stretch are printed (the targets are for an
# all-vwired network: tests/net/latency.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"
need_cmd wireguard-go wg python3
need_vxlan

FIVEHOST_WAN=relay
FIVEHOST_PRIORITY=auto
FIVEHOST_KERNEL=epsilon
fivehost_up
wait_for 90 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle"
wait_for 60 fh_rtt_measured || fail "round trips not measured: $(grep -h 'round trip' "$WORK"/*.log | tail -5)"

wait_for 60 fh_auto_priorities_set || fail "auto priorities not set: $(grep -h 'priority' "$WORK"/*.log)"
sleep 2
wait_for 60 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle again"

root=$(fh_root_of rho)
blocked=0
forwarding=0
for h in "${FIVEHOST_NAMES[@]}"; do
	[ "$(fh_root_of "$h")" = "$root" ] || fail "$h sees root $(fh_root_of "$h"), rho $root"
	states=$(fh_port_states "$h")
	echo "$h: $(echo "$states" | tr '\n' ' ')"
	blocked=$((blocked + $(echo "$states" | grep -c ' blocking$' || true)))
	forwarding=$((forwarding + $(echo "$states" | grep -c ' forwarding$' || true)))
done
echo "root $root; wire ends: $forwarding forwarding, $blocked blocking"
[ "$blocked" -eq 3 ] && [ "$forwarding" -eq 11 ] ||
	fail "a tree over 7 wires and 5 bridges blocks 3 wire ends and forwards 11: $blocked and $forwarding"

# Each wire off the tree is blocked at one end and forwarding at the other.
for p in "${FIVEHOST_PAIRS[@]}"; do
	set -- $p
	a=$(fh_port_states "$1" | awk -v w="$2" '$1 == w { print $2 }')
	b=$(fh_port_states "$2" | awk -v w="$1" '$1 == w { print $2 }')
	echo "wire $1-$2: $a / $b"
	[ "$a" = forwarding ] || [ "$b" = forwarding ] || fail "wire $1-$2 blocked at both ends"
done

# Auto costs on the ports facing the kernel bridge: from the round trip, in 16 bits.
for h in rho vorke bob; do
	"$VWIRECTL" --run-dir "${FH_RUN[$h]}" showstp internet --json >"$WORK/$h-stp.json"
	python3 - "$WORK/$h-stp.json" "$h" <<'PY' || fail "$h's port to the kernel bridge"
import json, sys
port = next(p for p in json.load(open(sys.argv[1]))["ports"] if p["name"] == "epsilon")
cost, rtt = port["path_cost"], port.get("rtt_ms")
print(f"  {sys.argv[2]} -> epsilon (kernel): rtt {rtt} ms, path cost {cost}, speaks {port['protocol']}")
assert rtt is not None, "no round trip measured to the kernel host"
assert 1 <= cost <= 65535, "path cost beyond 802.1D's 16 bits"
# (RTT / 2 ms)^2 of the round trip the cost was taken from (the SRTT may have moved since).
assert 0.5 * (rtt / 2) ** 2 <= cost <= 2 * (rtt / 2) ** 2, "not the auto cost"
PY
done

for f in "${FIVEHOST_NAMES[@]}"; do
	for t in "${FIVEHOST_NAMES[@]}"; do
		[ "$f" = "$t" ] || fh_ping "$f" "$t" >/dev/null || fail "ping $f -> $t failed"
	done
done
echo "ping matrix: 20/20 pairs"
fh_stretch 5
echo "latency-mixed: OK (root $root)"
