#!/bin/bash
# Failover: stop rho, the root, which carries forwarding wires to everyone. The
# survivors (epsilon, vorke, bob) must unblock a wire among themselves and ping
# again; the measured outage is printed (802.1D bound: max age + 2 x forward delay).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"

fivehost_up
wait_for 60 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle"
survivors=(epsilon vorke bob)
for f in "${survivors[@]}"; do for t in "${survivors[@]}"; do
	[ "$f" = "$t" ] || fh_ping "$f" "$t" >/dev/null || fail "before: ping $f -> $t failed"
done; done

# A continuous ping between two survivors, timestamped, across the failure.
bg ping.log in_ns "${FH_NS[epsilon]}" ping -D -i 0.1 -W 1 "10.1.0.${FH_IDX[bob]}"
sleep 1
old_root=$(fh_root_of epsilon)
t_stop=$(date +%s.%N)
fh_stop rho
echo "stopped rho (root $old_root) at $t_stop"
bound=$((FIVEHOST_MAXAGE + 2 * FIVEHOST_FWD))
root_moved() {
	local h
	for h in "${survivors[@]}"; do [ "$(fh_root_of "$h")" != "$old_root" ] || return 1; done
}
wait_for $((3 * bound)) root_moved || fail "survivors still see the dead root $old_root"
wait_for $((3 * bound)) fh_converged "${survivors[@]}" || fail "survivors did not reconverge"
wait_for $((2 * bound)) fh_ping epsilon bob || fail "epsilon -> bob did not resume"
sleep 1
kill "$LAST_PID" 2>/dev/null || true
for f in "${survivors[@]}"; do for t in "${survivors[@]}"; do
	# The tree may still settle for a moment after the first ping got through (RSTP's
	# stale root information can take a round or two: bench/README.md, "Failover").
	[ "$f" = "$t" ] || wait_for 15 fh_ping "$f" "$t" || fail "after: ping $f -> $t failed"
done; done
for h in "${survivors[@]}"; do echo "$h root $(fh_root_of "$h"): $(fh_port_states "$h" | tr '\n' ' ')"; done

# Outage: the longest gap between consecutive replies after the stop.
outage=$(ping_outage "$WORK/ping.log" "$t_stop" 0.1)
outage=${outage%% *}
[ "$outage" = none ] || outage=$(printf %.1f "$outage")
echo "measured outage: $outage s with Protocol = $FIVEHOST_PROTOCOL (802.1D bound max age + 2 x forward delay = $bound s)"
[ "$outage" != none ] || fail "no replies after the failure"
echo "failover: OK"
