#!/bin/bash
# RSTP between vwired hosts (the default Protocol), with 802.1D's default timers (hello
# 2, forward delay 15, max age 20) so that RSTP's speed shows against them:
#  - the five hosts converge with one root and a loop-free tree (3 wire ends of 7
#    wires discarding) in seconds, not 2 x forward delay (30 s);
#  - what vwired sends on a TAP port is an RST BPDU as tshark dissects it (stp.version == 2);
#  - rho, the root and every path's transit host, killed with -9: the survivors route
#    around it once liveness takes their wires to it down. The outage a 10 ms ping saw
#    is printed and must be below 5 s (802.1D: max age + 2 x forward delay = 50 s).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"
command -v tshark >/dev/null || { echo "tshark missing"; exit 77; }

FIVEHOST_HELLO=2 FIVEHOST_FWD=15 FIVEHOST_MAXAGE=20
# rho gets a TAP port, rtap, for tshark to listen on (BPDUs on wires are encrypted).
eval "$(declare -f fh_config | sed '1s/fh_config/fh_config_base/')"
fh_config() {
	if [ "$1" = rho ]; then fh_config_base "$@" | sed '/^\[Bridge\]/a Ports = rtap'; else fh_config_base "$@"; fi
}

one_tree() { # one root everywhere, 3 discarding wire ends, the rest forwarding
	local h roots blocked
	fh_converged "${FIVEHOST_NAMES[@]}" || return 1
	roots=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_root_of "$h"; done | sort -u)
	[ "$(echo "$roots" | wc -l)" -eq 1 ] || return 1
	blocked=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_port_states "$h"; done | awk '$1 != "rtap" && $2 == "blocking"' | wc -l)
	[ "$blocked" -eq 3 ]
}

fivehost_up
t0=$(date +%s.%N)
# Convergence starts when the wires have their sessions: measure from the first wire up.
wires_up() { "$VWIRECTL" --run-dir "${FH_RUN[bob]}" show "wg${TAG}4" --json 2>/dev/null | grep -q '"tunnel": "up"'; }
wait_for 30 wires_up || fail "no wire of bob came up"
t1=$(date +%s.%N)
wait_for 60 one_tree || {
	for h in "${FIVEHOST_NAMES[@]}"; do echo "$h root $(fh_root_of "$h"): $(fh_port_states "$h" | tr '\n' ' ')"; done
	fail "no single loop-free tree in 60 s"
}
t2=$(date +%s.%N)
conv=$(echo "$t2 - $t1" | bc)
echo "one tree $(printf %.1f "$conv") s after the first wire came up ($(printf %.1f "$(echo "$t2 - $t0" | bc)") s after start; 802.1D needs 2 x forward delay = 30 s)"
for h in "${FIVEHOST_NAMES[@]}"; do echo "$h root $(fh_root_of "$h"): $(fh_port_states "$h" | tr '\n' ' ')"; done
[ "$(echo "$conv < 15" | bc)" = 1 ] || fail "RSTP took $conv s: no faster than 802.1D's forward delay"
"$VWIRECTL" --run-dir "${FH_RUN[rho]}" showstp internet --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["protocol"] == "rstp", d["protocol"]
for p in d["ports"]:
    assert p["protocol"] == "rstp", p
    assert p["role"] in ("root", "designated", "alternate", "backup", "disabled"), p
' || fail "rho's showstp --json does not say rstp everywhere"
"$VWIRECTL" --run-dir "${FH_RUN[rho]}" showstp internet | head -n 12 | sed 's/^/    | /'

# tshark on rho's TAP port: RST BPDUs, version 2, from rho's bridge.
in_ns "${FH_NS[rho]}" timeout 8 tshark -i rtap -c 2 -f "ether dst 01:80:c2:00:00:00" \
	-T fields -e stp.version -e stp.type -e stp.root.hw -e stp.flags.port_role \
	>"$WORK/rtap.txt" 2>"$WORK/tshark.err" || true
cat "$WORK/rtap.txt"
[ -s "$WORK/rtap.txt" ] || fail "no BPDU on rho's TAP port: $(cat "$WORK/tshark.err")"
awk '$1 != 2 || $2 != "0x02" { exit 1 }' "$WORK/rtap.txt" ||
	fail "vwired's BPDUs on rtap are not RST BPDUs (stp.version == 2)"
# What tshark makes of one of them, for the log only (a slow capture must not fail the test).
in_ns "${FH_NS[rho]}" timeout 8 tshark -i rtap -c 1 -Y "stp.version == 2" -O stp \
	2>/dev/null | grep -E "Protocol Version|BPDU Type|Port Role" | sed 's/^/    /' || true

# kill -9 the root: a 10 ms ping from epsilon to bob across it.
for f in epsilon vorke bob; do for t in epsilon vorke bob; do
	[ "$f" = "$t" ] || fh_ping "$f" "$t" >/dev/null || fail "before: ping $f -> $t failed"
done; done
bg ping.log in_ns "${FH_NS[epsilon]}" ping -D -i 0.01 -W 1 "10.1.0.${FH_IDX[bob]}"
ping_pid=$LAST_PID
sleep 1
old_root=$(fh_root_of epsilon)
t_stop=$(date +%s.%N)
kill -9 "${FH_PID[rho]}"
wait "${FH_PID[rho]}" 2>/dev/null || true
echo "killed rho (root $old_root) with -9"
root_moved() {
	local h
	for h in epsilon vorke bob; do [ "$(fh_root_of "$h")" != "$old_root" ] || return 1; done
}
wait_for 30 root_moved || fail "survivors still see the dead root $old_root"
wait_for 30 fh_ping epsilon bob || fail "epsilon -> bob did not resume"
sleep 2
kill "$ping_pid" 2>/dev/null || true
for h in epsilon vorke bob; do echo "$h root $(fh_root_of "$h"): $(fh_port_states "$h" | tr '\n' ' ')"; done
blocked=$(for h in epsilon vorke bob; do fh_port_states "$h"; done | awk '$1 != "rho" && $2 == "blocking"' | wc -l)
echo "survivors: $blocked discarding wire end(s) among them"
[ "$blocked" -eq 1 ] || fail "survivors' tree: $blocked discarding wire ends, expected 1"
outage=$(ping_outage "$WORK/ping.log" "$t_stop" 0.01)
outage=${outage%% *}
[ "$outage" = none ] || outage=$(printf %.2f "$outage")
echo "outage after kill -9 of the root: $outage s (RSTP; 802.1D's bound: 50 s)"
[ "$outage" != none ] || fail "no replies after the kill"
[ "$(echo "$outage < 5" | bc)" = 1 ] || fail "outage $outage s: not routed around in seconds"
for f in epsilon vorke bob; do for t in epsilon vorke bob; do
	# The tree may still settle for a moment after the first ping got through (RSTP's
	# stale root information can take a round or two: bench/README.md, "Failover").
	[ "$f" = "$t" ] || wait_for 15 fh_ping "$f" "$t" || fail "after: ping $f -> $t failed"
done; done
echo "rstp: OK"
