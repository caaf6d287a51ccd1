#!/bin/bash
# The seed's five-host private Ethernet, for scripts/demo and the net tests.
# Source after lib.sh. Hosts rho, epsilon, vorke, bob, pi0; pi0 has one wire, to rho,
# and sits "behind NAT" (no Endpoint for it anywhere: it dials rho with a keepalive);
# every other pair of the four has one wire. Each host: a vwired (or, with
# FIVEHOST_KERNEL=NAME, that host on the kernel path: wireguard-go + kernel vxlan
# ports in a kernel bridge with stp_state 1), a tunnel address 10.0.0.N, and a bridge
# "internet" with 10.1.0.N. The underlay is a kernel bridge in a "wan" namespace, or
# with FIVEHOST_WAN=relay the WAN relay (tests/tools/wanrelay, its "seed" geography:
# 10 to 98 ms round trips) as the only way between the hosts: each host's Endpoint for
# a peer is the relay's face for that pair, and fh_cut / fh_heal cut links or hosts.
# Short STP timers (hello 1, forward delay 4, max age 6) so the tree forms in seconds.
# With FIVEHOST_MESH=1 the vwired configs are not written here but by `vwirectl mesh`
# from one mesh file (fh_mesh_file), as a person would make them; keys in $WORK/mesh/keys.

FIVEHOST_NAMES=(rho epsilon vorke bob pi0)
FIVEHOST_PAIRS=("rho epsilon" "rho vorke" "rho bob" "epsilon vorke" "epsilon bob" "vorke bob" "pi0 rho")
declare -A FH_IDX FH_NS FH_KEY FH_PUB FH_RUN FH_PID FH_FACE
FIVEHOST_WAN=${FIVEHOST_WAN:-bridge}
FH_RELAY_IP=10.99.0.1
FIVEHOST_HELLO=${FIVEHOST_HELLO:-1}
FIVEHOST_FWD=${FIVEHOST_FWD:-4}
FIVEHOST_MAXAGE=${FIVEHOST_MAXAGE:-6}
FIVEHOST_PROTOCOL=${FIVEHOST_PROTOCOL:-rstp} # vwired's [Bridge] Protocol
FIVEHOST_MESH=${FIVEHOST_MESH:-}
FIVEHOST_UDPCSUM=${FIVEHOST_UDPCSUM:-} # the host whose [Bridge] has UDPChecksum = yes
# [Bridge] Priority: seed (rho 4096, the others 32768, the seed's choice), default (all
# 32768) or auto; [Wire] Cost: auto (vwired's default, from the round trip) or a number.
FIVEHOST_PRIORITY=${FIVEHOST_PRIORITY:-seed}
FIVEHOST_COST=${FIVEHOST_COST:-auto}

fh_vni() { # VNI of the wire between two hosts: 10*lower index + higher index
	local a=${FH_IDX[$1]} b=${FH_IDX[$2]}
	[ "$a" -lt "$b" ] && echo $((10 * a + b)) || echo $((10 * b + a))
}

fh_peers_of() { # the hosts $1 has a wire to
	local p
	for p in "${FIVEHOST_PAIRS[@]}"; do
		set -- "$1" $p
		if [ "$2" = "$1" ]; then echo "$3"; fi
		if [ "$3" = "$1" ]; then echo "$2"; fi
	done | sort -u
}

fh_is_kernel() { [ "${FIVEHOST_KERNEL:-}" = "$1" ]; }

fh_endpoint() { # where host $1 sends to reach host $2
	if [ "$FIVEHOST_WAN" = relay ]; then
		echo "$FH_RELAY_IP:${FH_FACE[$1>$2]}"
	else
		echo "192.168.200.${FH_IDX[$2]}:51820"
	fi
}

fh_wan() { # a command to the relay: cut A [B], heal A [B], set ..., stats
	"$VWIRE_BUILD/tests/tools/wanrelay" ctl "$WORK/wan.sock" "$@"
}
fh_cut() { fh_wan cut "$@" >/dev/null; }
fh_heal() { fh_wan heal "$@" >/dev/null; }

fh_priority() { # host $1's [Bridge] Priority
	case $FIVEHOST_PRIORITY in
	seed) [ "$1" = rho ] && echo 4096 || echo 32768 ;;
	default) echo 32768 ;;
	*) echo "$FIVEHOST_PRIORITY" ;;
	esac
}

fh_config() { # the vwired config of host $1
	local h=$1 n=${FH_IDX[$1]} p
	cat <<-CONF
	[Interface]
	PrivateKey = ${FH_KEY[$h]}
	ListenPort = 51820
	Name = wg$TAG$n
	Address = 10.0.0.$n/24
	MTU = 1420
	CONF
	for p in $(fh_peers_of "$h"); do
		echo "[Peer]"
		echo "PublicKey = ${FH_PUB[$p]}"
		echo "AllowedIPs = 10.0.0.${FH_IDX[$p]}/32"
		# pi0 roams behind NAT: nobody knows its endpoint; it keeps its mapping open.
		[ "$p" != pi0 ] && echo "Endpoint = $(fh_endpoint "$h" "$p")"
		[ "$h" = pi0 ] && echo "PersistentKeepalive = 5"
	done
	cat <<-CONF
	[Bridge]
	Name = internet
	Address = 10.1.0.$n/24
	STP = on
	Protocol = $FIVEHOST_PROTOCOL
	Priority = $(fh_priority "$h")
	HelloTime = $FIVEHOST_HELLO
	ForwardDelay = $FIVEHOST_FWD
	MaxAge = $FIVEHOST_MAXAGE
	CONF
	if [ "$h" = "$FIVEHOST_UDPCSUM" ]; then echo "UDPChecksum = yes"; fi
	for p in $(fh_peers_of "$h"); do
		echo "[Wire]"
		echo "Name = $p"
		echo "Remote = 10.0.0.${FH_IDX[$p]}"
		echo "VNI = $(fh_vni "$h" "$p")"
		echo "Cost = $FIVEHOST_COST"
	done
}

# The network as one mesh file: the same hosts, wires, addresses, timers and root. Each
# host's Endpoint is its own address; over the relay every peer reaches it at the
# relay's face for that pair (EndpointFrom), as over the bridge at its address.
fh_mesh_file() {
	local h p
	cat <<-MESH
	# The seed's five hosts ($FIVEHOST_WAN underlay)
	[Network]
	TunnelPrefix = 10.0.0.0/24
	BridgePrefix = 10.1.0.0/24
	BridgeName = internet
	Protocol = $FIVEHOST_PROTOCOL
	HelloTime = $FIVEHOST_HELLO
	ForwardDelay = $FIVEHOST_FWD
	MaxAge = $FIVEHOST_MAXAGE
	PersistentKeepalive = 5
	MESH
	case $FIVEHOST_PRIORITY in
	seed) echo "Root = rho" ;;
	default) ;;
	*) echo "Priority = $FIVEHOST_PRIORITY" ;;
	esac
	for h in "${FIVEHOST_NAMES[@]}"; do
		printf '\n[Host]\nName = %s\nInterface = wg%s%s\n' "$h" "$TAG" "${FH_IDX[$h]}"
		if [ "$h" = pi0 ]; then
			printf 'BehindNAT = yes\nWires = rho\n'
		elif [ "$FIVEHOST_WAN" = relay ]; then
			echo "Endpoint = 10.99.${FH_IDX[$h]}.2:51820"
			for p in $(fh_peers_of "$h"); do
				echo "EndpointFrom = $p $(fh_endpoint "$p" "$h")"
			done
		else
			echo "Endpoint = 192.168.200.${FH_IDX[$h]}:51820"
		fi
	done
}

# Every host's config from the mesh file, and the keys it made.
fh_mesh_configs() {
	local h
	fh_mesh_file >"$WORK/five.mesh"
	"$VWIRECTL" mesh "$WORK/five.mesh" -o "$WORK/mesh" >"$WORK/mesh.log" 2>&1 ||
		fail "vwirectl mesh failed: $(cat "$WORK/mesh.log")"
	for h in "${FIVEHOST_NAMES[@]}"; do
		FH_KEY[$h]=$(cat "$WORK/mesh/keys/$h.key")
		FH_PUB[$h]=$(printf '%s\n' "${FH_KEY[$h]}" | "$VWIRECTL" pubkey)
	done
}

fh_start_vwired() {
	local h=$1 ns=${FH_NS[$1]}
	if [ -n "$FIVEHOST_MESH" ]; then
		cp "$WORK/mesh/$h.conf" "$WORK/$h.conf"
	else
		fh_config "$h" >"$WORK/$h.conf"
	fi
	FH_RUN[$h]="$WORK/run-$h"
	mkdir -p "${FH_RUN[$h]}"
	bg "$h.log" in_ns "$ns" ${FIVEHOST_WRAP:-} "$VWIRED" -c "$WORK/$h.conf" --run-dir "${FH_RUN[$h]}" ${FIVEHOST_IO:+--io $FIVEHOST_IO}
	FH_PID[$h]=$LAST_PID
}

# The kernel path: wireguard-go for WireGuard, a kernel vxlan device per wire, all in
# a kernel bridge with STP. Same addresses, keys, VNIs and timers as vwired would use.
# The vxlan devices are not bound to the WireGuard interface ("dev"): bound, the kernel
# caps their MTU at 1370; unbound they take 1500 and the outer packets are fragmented.
fh_start_kernel() {
	local h=$1 ns=${FH_NS[$1]} n=${FH_IDX[$1]} p wg
	wg=wg$TAG$n
	bg "$h.log" in_ns "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$wg"
	FH_PID[$h]=$LAST_PID
	wait_for 10 in_ns "$ns" ip link show "$wg" || fail "$h: wireguard-go did not create $wg"
	fh_config "$h" | awk '/^\[Bridge\]/ { stop = 1 } !stop' | grep -v -e '^Name' -e '^Address' -e '^MTU' >"$WORK/$h.wg.conf"
	wait_for 10 in_ns "$ns" wg setconf "$wg" "$WORK/$h.wg.conf" || fail "$h: wg setconf failed"
	in_ns "$ns" ip addr add "10.0.0.$n/24" dev "$wg"
	in_ns "$ns" ip link set "$wg" mtu 1420 up
	in_ns "$ns" ip link add internet type bridge stp_state 1 priority 32768 \
		hello_time $((FIVEHOST_HELLO * 100)) forward_delay $((FIVEHOST_FWD * 100)) \
		max_age $((FIVEHOST_MAXAGE * 100))
	for p in $(fh_peers_of "$h"); do
		in_ns "$ns" ip link add "$p" type vxlan id "$(fh_vni "$h" "$p")" \
			remote "10.0.0.${FH_IDX[$p]}" local "10.0.0.$n" dstport 4789 nolearning
		in_ns "$ns" ip link set "$p" mtu 1500 master internet
		in_ns "$ns" ip link set "$p" type bridge_slave cost 100
		in_ns "$ns" ip link set "$p" up
	done
	in_ns "$ns" ip addr add "10.1.0.$n/24" dev internet
	in_ns "$ns" ip link set internet up
}

# The relay in the wan namespace, each host on its own cable to it, no forwarding: the
# relay's faces are the only way between hosts. pi0 is "behind NAT": the relay learns its
# address from what it sends.
fh_relay_up() {
	local wan=$1 h args=()
	in_ns "$wan" sysctl -qw net.ipv4.ip_forward=0
	ip -n "$wan" addr add "$FH_RELAY_IP/32" dev lo
	ip -n "$wan" link set lo up
	for h in "${FIVEHOST_NAMES[@]}"; do
		veth_pair "$wan" "to$h" "10.99.${FH_IDX[$h]}.1/24" "${FH_NS[$h]}" eth0 "10.99.${FH_IDX[$h]}.2/24"
		ip -n "${FH_NS[$h]}" route add "$FH_RELAY_IP/32" via "10.99.${FH_IDX[$h]}.1"
		if [ "$h" = pi0 ]; then args+=(--host pi0); else args+=(--host "$h=10.99.${FH_IDX[$h]}.2:51820"); fi
	done
	bg wan.log in_ns "$wan" "$VWIRE_BUILD/tests/tools/wanrelay" --listen "$FH_RELAY_IP" \
		--base-port 40000 --preset seed --seed 1 --ctl "$WORK/wan.sock" "${args[@]}"
	wait_alive 5 "$LAST_PID" grep -q '^ready$' "$WORK/wan.log" ||
		fail "wanrelay did not start: $(cat "$WORK/wan.log")"
	while read -r _ dir _ port _; do
		FH_FACE[$dir]=$port
	done < <(awk '$1 == "face" { sub("->", ">", $2); print }' "$WORK/wan.log")
}

fivehost_up() {
	local h i=0 wan
	[ -z "$FIVEHOST_MESH" ] || [ -z "${FIVEHOST_KERNEL:-}" ] ||
		fail "FIVEHOST_MESH makes vwired configs only: no FIVEHOST_KERNEL with it (tests/net/mesh.sh runs a kernel host from a mesh file)"
	wan=$(netns_add wan)
	for h in "${FIVEHOST_NAMES[@]}"; do
		i=$((i + 1))
		FH_IDX[$h]=$i
		FH_NS[$h]=$(netns_add "$h")
		FH_KEY[$h]=$("$VWIRECTL" genkey)
		FH_PUB[$h]=$(printf '%s\n' "${FH_KEY[$h]}" | "$VWIRECTL" pubkey)
	done
	if [ "$FIVEHOST_WAN" = relay ]; then
		fh_relay_up "$wan"
	else
		ip -n "$wan" link add wan type bridge
		ip -n "$wan" link set wan up
		for h in "${FIVEHOST_NAMES[@]}"; do
			ip link add eth0 netns "${FH_NS[$h]}" type veth peer name "to$h" netns "$wan"
			ip -n "$wan" link set "to$h" master wan up
			ip -n "${FH_NS[$h]}" addr add "192.168.200.${FH_IDX[$h]}/24" dev eth0
			ip -n "${FH_NS[$h]}" link set eth0 up
		done
	fi
	[ -z "$FIVEHOST_MESH" ] || fh_mesh_configs
	for h in "${FIVEHOST_NAMES[@]}"; do
		if fh_is_kernel "$h"; then fh_start_kernel "$h"; else fh_start_vwired "$h"; fi
	done
}

fh_stop() { # stops host $1 (its process; its links go with it)
	local h=$1
	kill "${FH_PID[$h]}" 2>/dev/null || true
	wait "${FH_PID[$h]}" 2>/dev/null || true
	fh_is_kernel "$h" && ip -n "${FH_NS[$h]}" link del internet 2>/dev/null
	return 0
}

# Port states of host $1, one "wire state" line each.
fh_port_states() {
	local h=$1 ns=${FH_NS[$1]} p
	if fh_is_kernel "$h"; then
		for p in $(fh_peers_of "$h"); do
			case $(cat "/sys/class/net/$p/brport/state" 2>/dev/null || in_ns "$ns" cat "/sys/class/net/$p/brport/state") in
			0) echo "$p disabled" ;; 1) echo "$p listening" ;; 2) echo "$p learning" ;;
			3) echo "$p forwarding" ;; 4) echo "$p blocking" ;; *) echo "$p unknown" ;;
			esac
		done
	else
		"$VWIRECTL" --run-dir "${FH_RUN[$h]}" showstp internet --json 2>/dev/null |
			python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d.get("ports", []):
    print(p["name"], p["state"])'
	fi
}

fh_root_of() { # the designated root host $1 sees
	local h=$1
	if fh_is_kernel "$h"; then
		in_ns "${FH_NS[$h]}" cat /sys/class/net/internet/bridge/root_id
	else
		"$VWIRECTL" --run-dir "${FH_RUN[$h]}" showstp internet --json 2>/dev/null |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["designated_root"])'
	fi
}

# True once every live host has no port in listening or learning, and has a port forwarding.
fh_converged() {
	local h states
	for h in "$@"; do
		states=$(fh_port_states "$h") || return 1
		[ -n "$states" ] || return 1
		echo "$states" | grep -qE ' (listening|learning)$' && return 1
		echo "$states" | grep -q ' forwarding$' || return 1
	done
	return 0
}

fh_ping() { # fh_ping FROM TO [ping args]
	local from=$1 to=$2
	shift 2
	in_ns "${FH_NS[$from]}" ping -q -c 2 -i 0.2 -W 2 "$@" "10.1.0.${FH_IDX[$to]}"
}

# The stretch of every host pair: its round trip over the bridge (10.1.0.N) against its
# shortest round trip over the wires (each wire's direct ping over the tunnel, 10.0.0.N;
# pi0's shortest paths go through rho), each the least of $1 (default 5) pings 0.2 s apart
# (the first may wait for ARP). Prints a table, then one line
# "stretch mean M worst W epsilon-vorke E".
fh_stretch() {
	local n=${1:-5} a b out="$WORK/stretch.txt"
	: >"$out"
	for a in "${FIVEHOST_NAMES[@]}"; do for b in "${FIVEHOST_NAMES[@]}"; do
		[ "${FH_IDX[$a]}" -lt "${FH_IDX[$b]}" ] || continue
		echo "bridge $a $b $(in_ns "${FH_NS[$a]}" ping -q -c "$n" -i 0.2 -W 2 "10.1.0.${FH_IDX[$b]}" |
			awk '/^rtt/ { split($4, a, "/"); print a[1] }')" >>"$out"
	done; done
	for p in "${FIVEHOST_PAIRS[@]}"; do
		set -- $p
		echo "direct $1 $2 $(in_ns "${FH_NS[$1]}" ping -q -c "$n" -i 0.2 -W 2 "10.0.0.${FH_IDX[$2]}" |
			awk '/^rtt/ { split($4, a, "/"); print a[1] }')" >>"$out"
	done
	python3 - "$out" "${FIVEHOST_NAMES[@]}" <<'PY'
import sys
lines = [l.split() for l in open(sys.argv[1])]
hosts = sys.argv[2:]
inf = float("inf")
d = {(a, b): (0 if a == b else inf) for a in hosts for b in hosts}
over = {}
for kind, a, b, *rtt in lines:
    if not rtt:
        sys.exit(f"no answer {kind} {a} -> {b}")
    if kind == "direct":
        d[a, b] = d[b, a] = float(rtt[0])
    else:
        over[a, b] = float(rtt[0])
for k in hosts:
    for i in hosts:
        for j in hosts:
            d[i, j] = min(d[i, j], d[i, k] + d[k, j])
st = {}
print(f"{'pair':16} {'bridge ms':>9} {'shortest ms':>11} {'stretch':>7}")
for (a, b), r in over.items():
    st[a, b] = r / d[a, b]
    print(f"{a + '-' + b:16} {r:9.1f} {d[a, b]:11.1f} {st[a, b]:7.2f}")
ev = st.get(("epsilon", "vorke")) or st.get(("vorke", "epsilon"))
print(f"stretch mean {sum(st.values()) / len(st):.2f} worst {max(st.values()):.2f} "
      f"epsilon-vorke {ev:.2f}")
PY
}

# True once every wire of every vwired host passes the Python test $1 on x, the wire's entry
# in vwirectl show --json.
fh_wires_all() {
	local h
	for h in "${FIVEHOST_NAMES[@]}"; do
		fh_is_kernel "$h" && continue
		"$VWIRECTL" --run-dir "${FH_RUN[$h]}" show "wg$TAG${FH_IDX[$h]}" --json 2>/dev/null |
			python3 -c '
import json, sys
w = json.load(sys.stdin)["wires"]
sys.exit(0 if w and all(eval(sys.argv[1], {"x": x}) for x in w) else 1)' "$1" || return 1
	done
}
fh_wires_up() { fh_wires_all 'x["tunnel_up"]'; }
# Each wire measured past the warm-up (wirecost.h: 16 samples): Cost and Priority = auto settled.
fh_rtt_measured() { fh_wires_all 'x["rtt_samples"] > 16'; }

# Watches every vwired host's tree for $1 seconds (default 30) in the background, from
# now: each host's designated root, topology change count and bridge id every 0.25 s,
# into $WORK/watch.log ("SECONDS HOST ROOT TC_COUNT BRIDGE_ID"). fh_watch_summary reads it.
fh_watch_start() {
	local h args=()
	for h in "${FIVEHOST_NAMES[@]}"; do
		fh_is_kernel "$h" || args+=("$h=${FH_RUN[$h]}")
	done
	# A file: a command run in the background reads /dev/null, not a here-document.
	cat >"$WORK/watch.py" <<'PY'
import json, subprocess, sys, time
ctl, secs, out = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], "w")
hosts = [a.split("=", 1) for a in sys.argv[4:]]
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    for h, run in hosts:
        r = subprocess.run([ctl, "--run-dir", run, "showstp", "internet", "--json"],
                           capture_output=True, text=True)
        try:
            d = json.loads(r.stdout)
        except ValueError:
            continue
        print(f"{time.monotonic() - t0:.2f} {h} {d['designated_root']} "
              f"{d['topology_change_count']} {d['bridge_id']}", file=out, flush=True)
    time.sleep(0.25)
PY
	bg watch.out python3 "$WORK/watch.py" "$VWIRECTL" "${1:-30}" "$WORK/watch.log" "${args[@]}"
	FH_WATCH_PID=$LAST_PID
}

# After fh_watch_start: waits for it to end and prints, per host, the roots it saw and how
# often its root changed (a host that starts as its own root and then hears another's
# does not count that), of those how many went to a root that is not at Priority = auto's
# leaf priority (f000: start-up is over for that root), and its topology change count;
# then "watch root_changes MAX after_leaf MAX tc MAX final ROOT" (the most of any host).
fh_watch_summary() {
	wait "$FH_WATCH_PID" 2>/dev/null || true
	python3 - "$WORK/watch.log" <<'PY'
import sys
seen, tc, last = {}, {}, None
for line in open(sys.argv[1]):
    t, h, root, count, me = line.split()
    tc[h] = int(count)
    last = root
    s = seen.setdefault(h, [])
    if not s or s[-1][1] != root:
        s.append((t, root, root == me))
changes, after_leaf = {}, {}
for h, s in seen.items():
    if len(s) > 1 and s[0][2] and s[0][1][5:] != s[1][1][5:]:
        s = s[1:]  # its own id until it heard another bridge: no change of root
    changes[h] = len(s) - 1
    after_leaf[h] = sum(not r.startswith("f000.") for _, r, _ in s[1:])
    print(f"  {h}: {changes[h]} root changes ({after_leaf[h]} after the leaf phase), "
          f"{tc[h]} topology changes; roots " + ", ".join(f"{r} at {t}s" for t, r, _ in s))
print(f"watch root_changes {max(changes.values(), default=0)} "
      f"after_leaf {max(after_leaf.values(), default=0)} tc {max(tc.values(), default=0)} "
      f"final {last}")
PY
}

# Priority = auto leaves the leaf priority (61440) some seconds after warm-up (wirecost.h):
# true once every vwired host with more than one wire (pi0 has one: a leaf for good) has.
fh_auto_priorities_set() {
	local h
	for h in "${FIVEHOST_NAMES[@]}"; do
		fh_is_kernel "$h" && continue
		[ "$(fh_peers_of "$h" | wc -l)" -gt 1 ] || continue
		"$VWIRECTL" --run-dir "${FH_RUN[$h]}" showstp internet --json 2>/dev/null |
			python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["bridge_id"].startswith("f000."))' ||
			return 1
	done
}
