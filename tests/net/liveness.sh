#!/bin/bash
# Carrier from liveness: a wire's port follows whether its peer answers, not only whether a
# WireGuard session exists (which outlives a dead peer by minutes). The five hosts, epsilon
# on the kernel path (wireguard-go, kernel vxlan and bridge):
#  - idle wires stay up, their probes answered (by vwired, and by epsilon's kernel), at a
#    few probes a second at most;
#  - vorke killed with -9: rho's wire to it goes "silent" within a second or two, and comes
#    back "up" when vorke runs again;
#  - bob stopped cleanly: it says goodbye, and rho's wire to it is "left" at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"

FIVEHOST_KERNEL=epsilon
fivehost_up
wait_for 60 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle"

# wire_field HOST WIRE FIELD: a field of HOST's wire to WIRE in vwirectl show --json.
wire_field() {
	"$VWIRECTL" --run-dir "${FH_RUN[$1]}" show "wg$TAG${FH_IDX[$1]}" --json 2>/dev/null |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next(w[sys.argv[2]] for w in d["wires"] if w["name"] == sys.argv[1]))' "$2" "$3"
}
wire_is() { [ "$(wire_field "$1" "$2" tunnel)" = "$3" ]; }
now_ms() { date +%s%3N; }

# Idle: every wire of rho up through 5 s with no traffic but STP's, probes answered.
declare -A probes0
for p in $(fh_peers_of rho); do probes0[$p]=$(wire_field rho "$p" probes_sent); done
sleep 5
for p in $(fh_peers_of rho); do
	wire_is rho "$p" up || fail "idle wire rho-$p is $(wire_field rho "$p" tunnel), not up"
	n=$(($(wire_field rho "$p" probes_sent) - ${probes0[$p]}))
	echo "rho-$p: $n probes in 5 s idle"
	[ "$n" -le 30 ] || fail "rho-$p: $n probes in 5 s: more than a few a second"
done
# epsilon's kernel answered rho's probes (nothing else from it would keep the wire up).
n=$(($(wire_field rho epsilon probes_sent) - ${probes0[epsilon]}))
[ "$n" -gt 0 ] || fail "rho never probed the kernel host epsilon: the test proves nothing"
[ "$(wire_field rho epsilon silences)" = 0 ] || fail "rho found the kernel host epsilon silent"

# kill -9: no goodbye; the probes find it.
t0=$(now_ms)
kill -9 "${FH_PID[vorke]}"
wait "${FH_PID[vorke]}" 2>/dev/null || true
wait_for 10 wire_is rho vorke silent || fail "rho's wire to the dead vorke is $(wire_field rho vorke tunnel)"
echo "rho saw vorke silent after $(($(now_ms) - t0)) ms (bound: 500 ms after its last message)"
wait_for 10 wire_is epsilon vorke silent 2>/dev/null || true # epsilon is the kernel: no such view
grep -q "wire vorke: tunnel to 10.0.0.${FH_IDX[vorke]} silent" "$WORK/rho.log" ||
	fail "rho's log does not say why the wire went down"
# Back: vorke runs again and the wire comes up through a new handshake.
fh_start_vwired vorke
wait_for 30 wire_is rho vorke up || fail "rho's wire to vorke did not come back"

# A clean stop says goodbye.
t0=$(now_ms)
fh_stop bob
wait_for 10 wire_is rho bob left || fail "rho's wire to bob is $(wire_field rho bob tunnel), not left"
echo "rho saw bob leave after $(($(now_ms) - t0)) ms"
[ "$(wire_field rho bob goodbyes_rx)" = 1 ] || fail "rho did not count bob's goodbye"
echo "liveness: OK"
