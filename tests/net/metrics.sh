#!/bin/bash
# vwirectl metrics: three vwired hosts (rho, epsilon, vorke) with a wire between each
# pair, so the tree blocks one. After pings over the bridge and junk sent to rho's
# listen port, each host's `vwirectl metrics NAME` passes `promtool check metrics`, and
# its values agree with `vwirectl show --json` taken just before and just after
# (counters between the two): a peer's rx bytes, a wire's state, each worker's use of
# the lock, the junk's drop counter. Without NAME, over a run dir holding all three sockets, the families come
# once each with every instance's series together, and promtool takes that too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fivehost.sh"
need_cmd promtool python3

FIVEHOST_NAMES=(rho epsilon vorke)
FIVEHOST_PAIRS=("rho epsilon" "rho vorke" "epsilon vorke")
fivehost_up
wait_for 60 fh_converged "${FIVEHOST_NAMES[@]}" || fail "spanning tree did not settle"
fh_ping rho vorke >/dev/null || fail "no ping rho -> vorke over the bridge"
fh_ping epsilon rho -s 1472 >/dev/null || fail "no 1500-byte ping epsilon -> rho"

# Junk to rho's WireGuard port: message type 9 is no WireGuard message (rx_bad_type).
in_ns "${FH_NS[epsilon]}" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(7):
    s.sendto(b"\x09" + bytes(63), ("192.168.200.1", 51820))'
sleep 0.5

name_of() { echo "wg$TAG${FH_IDX[$1]}"; }
show() { "$VWIRECTL" --run-dir "${FH_RUN[$1]}" show "$(name_of "$1")" --json; }

# check HOST: metrics between two shows, and promtool's verdict.
check() {
	local h=$1 out
	show "$h" >"$WORK/$h.show1.json" || fail "vwirectl show $h failed"
	"$VWIRECTL" --run-dir "${FH_RUN[$h]}" metrics "$(name_of "$h")" >"$WORK/$h.prom" ||
		fail "vwirectl metrics $h failed"
	show "$h" >"$WORK/$h.show2.json" || fail "vwirectl show $h failed"
	out=$(promtool check metrics <"$WORK/$h.prom" 2>&1) ||
		fail "promtool check metrics, $h: $out"
	python3 - "$WORK/$h" "$(name_of "$h")" <<-'PY' || fail "$h: metrics disagree with show --json"
	import json, re, sys
	base, inst = sys.argv[1], sys.argv[2]
	s1, s2 = (json.load(open(f"{base}.show{i}.json")) for i in (1, 2))
	series = {}
	for line in open(f"{base}.prom"):
	    if line.startswith("#") or not line.strip():
	        continue
	    m = re.fullmatch(r'(\w+)\{(.*)\} (\S+)\n', line)
	    assert m, f"not a sample line: {line!r}"
	    labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[2])))
	    key = (m[1], labels)
	    assert key not in series, f"duplicate series {line!r}"
	    assert dict(labels).get("instance") == inst, f"instance label missing: {line!r}"
	    series[key] = float(m[3])
	def get(name, **labels):
	    labels["instance"] = inst
	    return series[(name, tuple(sorted(labels.items())))]
	def between(what, a, v, b):
	    assert a <= v <= b, f"{what}: {v} not within show's {a}..{b}"
	    print(f"  {inst}: {what} = {v:g} (show: {a}..{b})")
	for p1, p2 in zip(s1["peers"], s2["peers"]):
	    between(f"peer {p1['public_key'][:8]} rx bytes", p1["rx_bytes"],
	            get("vwire_peer_receive_bytes_total", public_key=p1["public_key"]), p2["rx_bytes"])
	    assert get("vwire_peer_session_up", public_key=p1["public_key"]) == 1
	for w in s2["wires"]:
	    up = [st for st in ("up", "silent", "left", "down")
	          if get("vwire_wire_state", wire=w["name"], remote=w["remote"], state=st) == 1]
	    assert up == [w["tunnel"]], f"wire {w['name']}: metrics say {up}, show {w['tunnel']}"
	    st = [st for st in ("disabled", "listening", "learning", "forwarding", "blocking")
	          if get("vwire_bridge_port_state", bridge="internet", port=w["name"], state=st) == 1]
	    assert st == [w["state"]], f"port {w['name']}: metrics say {st}, show {w['state']}"
	    print(f"  {inst}: wire {w['name']} {up[0]}, port {st[0]}")
	# The lock: taken for every batch and request (show's own too), each hold timed; the
	# seconds are cut to microseconds.
	for i, (w1, w2) in enumerate(zip(s1["workers"], s2["workers"])):
	    between(f"worker {i} lock acquisitions", w1["lock_acquired"],
	            get("vwire_worker_lock_acquisitions_total", worker=str(i)), w2["lock_acquired"])
	    held = get("vwire_worker_lock_held_seconds_total", worker=str(i)) * 1e9
	    between(f"worker {i} lock held ns", w1["lock_held_ns"] - 1000, held, w2["lock_held_ns"])
	    assert w1["lock_acquired"] > 0 and w1["lock_held_ns"] > 0, f"worker {i}: lock {w1}"
	    assert w2["lock_contended"] <= w2["lock_acquired"], f"worker {i}: lock {w2}"
	for reason in ("rx_bad_type", "rx_bad_size"):
	    between(f"drop {reason}", s1["drops"][reason],
	            get("vwire_drops_total", module="wireguard", reason=reason), s2["drops"][reason])
	if inst.endswith("1"):
	    assert get("vwire_drops_total", module="wireguard", reason="rx_bad_type") >= 7, \
	        "rho did not count the junk"
	PY
	echo "  $h: promtool check metrics: OK"
}
for h in "${FIVEHOST_NAMES[@]}"; do check "$h"; done
# The tree cuts one of the three wires: one port of one host is blocked (802.1D) or an
# alternate (RSTP).
grep -qE '^vwire_bridge_port_role\{.*role="(blocked|alternate)"\} 1$' "$WORK"/*.prom ||
	fail "no host reports a blocked port: $(grep -hE '^vwire_bridge_port_(role|state)\{.*\} 1$' "$WORK"/*.prom)"

# Every instance of one run dir: link the three control sockets into one.
mkdir -p "$WORK/all/vwire"
for h in "${FIVEHOST_NAMES[@]}"; do
	ln -s "${FH_RUN[$h]}/vwire/$(name_of "$h").ctl" "$WORK/all/vwire/"
done
"$VWIRECTL" --run-dir "$WORK/all" metrics >"$WORK/all.prom" || fail "vwirectl metrics (all) failed"
out=$(promtool check metrics <"$WORK/all.prom" 2>&1) || fail "promtool check metrics, all: $out"
dup=$(grep -E '^# (HELP|TYPE) ' "$WORK/all.prom" | sort | uniq -d)
[ -z "$dup" ] || fail "HELP/TYPE lines repeated: $dup"
# A family's lines stand together: its name never comes back after another family's.
python3 - "$WORK/all.prom" <<-'PY' || fail "families interleaved in the merged output"
import re, sys
seen, cur = set(), None
for line in open(sys.argv[1]):
    m = re.match(r"# (?:HELP|TYPE) (\w+)", line)
    fam = m[1] if m else cur
    if fam != cur:
        assert fam not in seen, f"{fam} comes back: {line!r}"
        seen.add(fam)
        cur = fam
PY
for h in "${FIVEHOST_NAMES[@]}"; do
	grep -q "^vwire_build_info{instance=\"$(name_of "$h")\",version=\"" "$WORK/all.prom" ||
		fail "merged metrics miss instance $(name_of "$h")"
done
echo "  all: $(grep -c '^# TYPE' "$WORK/all.prom") families, $(grep -vc '^#' "$WORK/all.prom") series of 3 instances; promtool: OK"
! "$VWIRECTL" --run-dir "${FH_RUN[rho]}" metrics nosuch 2>/dev/null || fail "metrics of a missing instance succeeded"
echo "metrics: OK"
