#!/bin/bash
# The five-host demo network as a test: every host pings every other over the
# bridge, full 1500-byte frames with DF cross every path, all bridges agree on the
# root, exactly the loops' worth of wires block, and frame counters stay bounded
# while idle and after a broadcast (no storm). demo-mesh runs it as scripts/demo does:
# configs from one mesh file (FIVEHOST_MESH=1), over the WAN relay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }

fivehost_up
t0=$SECONDS
wait_for 60 fh_wires_up "${FIVEHOST_NAMES[@]}" || fail "not every wire's tunnel came up in 60 s"
echo "tunnels up in $((SECONDS - t0)) s"
wait_for 60 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle in 60 s"
echo "converged in $((SECONDS - t0)) s"

# One root for all.
roots=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_root_of "$h"; done | sort -u)
[ "$(echo "$roots" | wc -l)" -eq 1 ] || fail "bridges disagree on the root: $roots"
echo "root: $roots"

# 7 wires, 5 bridges: a tree keeps 4, so 3 wires block (one end each).
blocked=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_port_states "$h" | awk -v h="$h" '$2 == "blocking" {print h "->" $1}'; done)
echo "blocked: $(echo $blocked)"
[ "$(echo "$blocked" | grep -c .)" -eq 3 ] || fail "expected 3 blocked wire ends, got: $blocked"
# pi0's only wire never blocks.
echo "$blocked" | grep -q pi0 && fail "pi0's only wire is blocked"

for f in "${FIVEHOST_NAMES[@]}"; do
	for t in "${FIVEHOST_NAMES[@]}"; do
		[ "$f" = "$t" ] && continue
		fh_ping "$f" "$t" >/dev/null || fail "ping $f -> $t failed"
		fh_ping "$f" "$t" -s 1472 -M do >/dev/null || fail "ping -s 1472 -M do $f -> $t failed"
	done
done
echo "ping matrix: 20/20 pairs, 56 B and 1472 B with DF"

# vwirectl show lists each host's wires (peer, VNI, tunnel and port state, counters).
for h in "${FIVEHOST_NAMES[@]}"; do
	want=$(fh_peers_of "$h" | wc -l)
	json=$("$VWIRECTL" --run-dir "${FH_RUN[$h]}" show "wg$TAG${FH_IDX[$h]}" --json) || fail "$h: vwirectl show --json failed"
	got=$(python3 -c 'import json,sys; w=json.loads(sys.argv[1])["wires"]; print(sum(1 for x in w if x["tunnel_up"] and x["vni"] > 0))' "$json")
	[ "$got" -eq "$want" ] || fail "$h: vwirectl show --json lists $got wires up, expected $want"
	text=$("$VWIRECTL" --run-dir "${FH_RUN[$h]}" show "wg$TAG${FH_IDX[$h]}")
	[ "$(grep -c '^wire: ' <<<"$text")" -eq "$want" ] || fail "$h: vwirectl show lists the wrong number of wires"
done
echo "vwirectl show: every host lists its wires, tunnels up"

total_frames() {
	local h sum=0 n
	for h in "${FIVEHOST_NAMES[@]}"; do
		n=$("$VWIRECTL" --run-dir "${FH_RUN[$h]}" show "wg$TAG${FH_IDX[$h]}" --json |
			python3 -c 'import json,sys; print(sum(w.get("tx_frames", 0) for w in json.load(sys.stdin)["wires"]))')
		sum=$((sum + n))
	done
	echo $sum
}
a=$(total_frames)
sleep 3
b=$(total_frames)
echo "idle 3 s: $((b - a)) frames sent on all wires"
[ $((b - a)) -lt 300 ] || fail "frames keep circulating while idle: $((b - a)) in 3 s"
# A broadcast from pi0 (ping to the broadcast address) must not loop.
in_ns "${FH_NS[pi0]}" ping -q -b -c 3 -i 0.3 -W 1 10.1.0.255 >/dev/null 2>&1 || true
sleep 2
c=$(total_frames)
echo "3 broadcasts + 2 s: $((c - b)) frames"
[ $((c - b)) -lt 500 ] || fail "broadcast storm: $((c - b)) frames"
echo "demo network: OK"
