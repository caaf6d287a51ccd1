#!/bin/bash
# SPDX-License-Identifier: MIT
# 802.1D interop with the Linux bridge: a triangle of two kernel
# bridges (stp_state 1) and one vwired bridge, run with Protocol = stp: the test
# predicts 802.1D's roles and states (RSTP facing kernel bridges is mixed.sh's).
#
#   namespace k1: kbr1 (kernel, 10.77.0.11/24)   namespace k2: kbr2 (kernel, 10.77.0.12/24)
#   namespace v:  vwired, bridge TAP brv (10.77.0.1/24)
#
#   cable A: vwired's port TAP tpa, moved into k1 and enslaved to kbr1
#   cable B: vwired's port TAP tpb, moved into k2 and enslaved to kbr2
#   cable C: veth c1 (kbr1) -- c2 (kbr2)
#
# Every port costs 100 and timers are hello 1, forward delay 4, max age 6. For
# each choice of root (vwired, kbr1, kbr2) the test computes from the bridge
# ids, port ids and path costs it reads which port 802.1D blocks, waits until
# all three bridges agree on the root, the root ports and every port's state
# (exactly one port of the loop blocking), pings between the three host
# addresses, cuts a cable on the active tree and waits for the blocked port to
# forward and the pings to pass again. tshark checks vwired's BPDUs on a kernel
# port against vwirectl showstp.
#
#   round 1: vwired priority 4096; kbr1 and kbr2 32768 (their MACs decide).
#            Cut: vwired's TAP tpb deleted (vwired must disable that port).
#   round 2: vwired restarted with priority 32768 (same key: same bridge id MAC),
#            kbr1 4096, kbr2 16384: vwired's port to kbr2 blocks. Cut: veth deleted,
#            so vwired has to unblock once the stale info ages out (max age).
#   round 3: kbr1 49152, kbr2 4096 while vwired runs: kbr1's port to vwired
#            blocks. Cut: vwired's TAP tpb set down (vwired sees no carrier
#            change, only the BPDUs stop).
#
# STP_HOLD=SECONDS keeps the namespaces that long when a ping fails, for a look.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
need_cmd tshark jq ping
[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"
[ -x "$VWIRECTL" ] || skip "vwirectl not built"

HELLO=1 FWD=4 MAXAGE=6
CONVERGE_MAX=$((3 * (MAXAGE + 2 * FWD)))
ADDR_V=10.77.0.1 ADDR_K1=10.77.0.11 ADDR_K2=10.77.0.12
KBR1=kbr1$TAG KBR2=kbr2$TAG BRV=brv$TAG TPA=tpa$TAG TPB=tpb$TAG C1=c1$TAG C2=c2$TAG
VNAME=vs$TAG
RUN_DIR=$WORK/run

NS1=$(netns_add k1)
NS2=$(netns_add k2)
NSV=$(netns_add v)
# netns_add runs in a $(...) subshell, so its NETNS_LIST entry is lost: register them here.
NETNS_LIST+=("$NS1" "$NS2" "$NSV")

# The model: bridges V, K1, K2; port ends BRIDGE:PORT; cables as pairs of ends.
BRIDGES=(V K1 K2)
ENDS=(V:tpa V:tpb K1:tpa K1:c K2:tpb K2:c)
declare -A LINK=([A]="V:tpa K1:tpa" [B]="V:tpb K2:tpb" [C]="K1:c K2:c")
declare -A IFNAME=([V:tpa]=$TPA [V:tpb]=$TPB [K1:tpa]=$TPA [K1:c]=$C1 [K2:tpb]=$TPB [K2:c]=$C2)
declare -A BRNAME=([V]=$BRV [K1]=$KBR1 [K2]=$KBR2)
declare -A BRNS=([V]=$NSV [K1]=$NS1 [K2]=$NS2)
# Filled by observe: what the bridges report.
declare -A BID=() PID=() COST=() OBS_ROOT=() OBS_RP=() OBS_RC=() OBS_STATE=() OBS_ROLE=()
# Filled by expect: what 802.1D prescribes.
declare -A RC=() EXP_RP=() EXP_STATE=() EXP_ROLE=()
EXP_ROOT=""
# The cut cable and how it was cut (vdel: vwired's TAP deleted; down: vwired's
# TAP set down; del: veth deleted), or empty.
CUT="" CUT_HOW=""

# ---- bridges and cables ----

# kbr_add NS NAME MAC ADDR: a kernel bridge with STP and the test's timers.
kbr_add() {
	ip -n "$1" link add "$2" address "$3" type bridge stp_state 1 \
		forward_delay $((FWD * 100)) hello_time $((HELLO * 100)) max_age $((MAXAGE * 100))
	ip -n "$1" addr add "$4/24" dev "$2"
	ip -n "$1" link set "$2" up
}

# kport_add NS BRIDGE IF: enslaves IF with path cost 100, up.
kport_add() {
	ip -n "$1" link set "$3" master "$2"
	ip -n "$1" link set "$3" type bridge_slave cost 100
	ip -n "$1" link set "$3" up
}

cable_c() {
	ip link add "$C1" netns "$NS1" type veth peer name "$C2" netns "$NS2"
	kport_add "$NS1" "$KBR1" "$C1"
	kport_add "$NS2" "$KBR2" "$C2"
}

kbr_prio() {
	ip -n "${BRNS[$1]}" link set "${BRNAME[$1]}" type bridge priority "$2"
}

vctl() { "$VWIRECTL" --run-dir "$RUN_DIR" "$@"; }

(umask 077 && "$VWIRECTL" genkey >"$WORK/v.key")

# vwired_start PRIORITY: vwired with the bridge; its port TAPs become cables A and B.
vwired_start() {
	cat >"$WORK/$VNAME.conf" <<EOF
[Interface]
PrivateKey = $(cat "$WORK/v.key")
Name = $VNAME
Tun = off
[Bridge]
Name = $BRV
Address = $ADDR_V/24
STP = on
Protocol = stp
Priority = $1
HelloTime = $HELLO
ForwardDelay = $FWD
MaxAge = $MAXAGE
Ports = $TPA, $TPB
EOF
	start_vwired "$NSV" "$WORK/$VNAME.conf" "$VNAME"
	VPID=${NODE_PID[$VNAME]}
	[ -S "$RUN_DIR/vwire/$BRV.bridge" ] || fail "no control socket $RUN_DIR/vwire/$BRV.bridge"
	# A TAP's file descriptor keeps working in another namespace.
	ip -n "$NSV" link set "$TPA" netns "$NS1"
	ip -n "$NSV" link set "$TPB" netns "$NS2"
	kport_add "$NS1" "$KBR1" "$TPA"
	kport_add "$NS2" "$KBR2" "$TPB"
	# A restarted vwired's TAP brv has a new MAC and nothing announces it: the
	# kernel hosts would keep sending to the old one for as long as their ARP
	# entry stays reachable (up to 45 s).
	ip -n "$NS1" neigh flush dev "$KBR1"
	ip -n "$NS2" neigh flush dev "$KBR2"
}

# ---- what the bridges say ----

# vwired_alive: fails with the log when vwired has exited.
vwired_alive() {
	kill -0 "$VPID" 2>/dev/null && return 0
	fail "vwired exited: $(tail -n 20 "${NODE_LOG[$VNAME]}")"
}

# observe_kernel BR: reads kbrN's sysfs into the observation arrays.
observe_kernel() {
	local br=$1 out kind name a b c d e root_no=0
	out=$(ip netns exec "${BRNS[$br]}" sh -c '
		b=/sys/class/net/$1/bridge
		echo "bridge $(cat $b/bridge_id) $(cat $b/root_id) $(cat $b/root_port) $(cat $b/root_path_cost)"
		for p in /sys/class/net/$1/brif/*; do
			[ -e "$p/state" ] || continue
			echo "port ${p##*/} $(cat $p/port_no) $(cat $p/port_id) $(cat $p/state) $(cat $p/path_cost)"
		done' sh "${BRNAME[$br]}") || fail "cannot read ${BRNAME[$br]}'s sysfs"
	OBS_RP[$br]=none
	while read -r kind name a b c d; do
		if [ "$kind" = bridge ]; then
			BID[$br]=${name/./} OBS_ROOT[$br]=${a/./} OBS_RC[$br]=$c root_no=$b
			continue
		fi
		e=""
		case "$name" in
		"$TPA") e=$br:tpa ;; "$TPB") e=$br:tpb ;; "$C1" | "$C2") e=$br:c ;;
		esac
		[ -n "$e" ] || fail "unexpected port $name on ${BRNAME[$br]}"
		PID[$e]=$(printf '%04x' $((b)))
		COST[$e]=$d
		case "$c" in
		0) OBS_STATE[$e]=disabled ;; 1) OBS_STATE[$e]=listening ;;
		2) OBS_STATE[$e]=learning ;; 3) OBS_STATE[$e]=forwarding ;;
		4) OBS_STATE[$e]=blocking ;; *) OBS_STATE[$e]="state$c" ;;
		esac
		[ $((a)) -ne "$root_no" ] || OBS_RP[$br]=$e
	done <<<"$out"
}

# observe_vwired: vwirectl showstp --json into the observation arrays.
observe_vwired() {
	local out kind name a b c d f e
	vwired_alive
	out=$(vctl showstp "$BRV" --json 2>&1) || fail "vwirectl showstp $BRV --json: $out"
	VJSON=$out
	out=$(jq -r '"bridge \(.bridge_id) \(.designated_root) \(.root_port) \(.path_cost)",
		(.ports[] | "port \(.name) \(.port_no) \(.port_id) \(.state) \(.path_cost) \(.role)")' \
		<<<"$out") || fail "vwirectl showstp --json is not the expected JSON: $VJSON"
	OBS_RP[V]=none
	local root_no=0
	while read -r kind name a b c d f; do
		if [ "$kind" = bridge ]; then
			BID[V]=${name/./} OBS_ROOT[V]=${a/./} root_no=$b OBS_RC[V]=$c
			continue
		fi
		case "$name" in
		"$TPA") e=V:tpa ;; "$TPB") e=V:tpb ;; *) fail "unexpected vwired port $name" ;;
		esac
		PID[$e]=$b COST[$e]=$d OBS_STATE[$e]=$c OBS_ROLE[$e]=$f
		[ "$a" -ne "$root_no" ] || OBS_RP[V]=$e
	done <<<"$out"
}

observe() {
	local e
	for e in "${ENDS[@]}"; do OBS_STATE[$e]=absent OBS_ROLE[$e]=""; done
	observe_vwired
	observe_kernel K1
	observe_kernel K2
}

# ---- what 802.1D prescribes ----

link_live() { [ "$1" != "$CUT" ]; }

# expect: the root, each bridge's root path cost and root port, and each end's
# role, from the bridge ids, port ids and costs just observed. Root path cost:
# least sum of receiving ports' costs. On each cable the designated port is the
# end with the best (root path cost, bridge id, port id); a bridge's root port
# is its port, not designated, with the best (cost through it, designated
# bridge, designated port, own port id); every other port blocks.
expect() {
	local br l a b ba bb best key far bf e
	EXP_ROOT=""
	for br in "${BRIDGES[@]}"; do
		if [ -z "$EXP_ROOT" ] || [[ ${BID[$br]} < ${BID[$EXP_ROOT]} ]]; then EXP_ROOT=$br; fi
	done
	for br in "${BRIDGES[@]}"; do RC[$br]=1000000000; done
	RC[$EXP_ROOT]=0
	for _ in 1 2 3; do
		for l in A B C; do
			link_live $l || continue
			read -r a b <<<"${LINK[$l]}"
			ba=${a%%:*} bb=${b%%:*}
			[ $((RC[$bb] + COST[$a])) -ge "${RC[$ba]}" ] || RC[$ba]=$((RC[$bb] + COST[$a]))
			[ $((RC[$ba] + COST[$b])) -ge "${RC[$bb]}" ] || RC[$bb]=$((RC[$ba] + COST[$b]))
		done
	done
	declare -gA DESIG=()
	for l in A B C; do
		read -r a b <<<"${LINK[$l]}"
		if ! link_live $l; then
			# A deleted veth or TAP leaves the kernel no port; the kernel
			# disables a port whose TAP is down; vwired must disable a port
			# whose TAP is deleted, but cannot know that a TAP was set down
			# in another namespace.
			for e in $a $b; do
				case "$CUT_HOW:${e%%:*}" in
				vdel:V | down:K*) EXP_ROLE[$e]=disabled EXP_STATE[$e]=disabled ;;
				down:V) EXP_ROLE[$e]=any EXP_STATE[$e]=any ;;
				*) EXP_ROLE[$e]=absent EXP_STATE[$e]=absent ;;
				esac
			done
			continue
		fi
		ba=${a%%:*} bb=${b%%:*}
		if [[ $(printf '%010d%s%s' "${RC[$ba]}" "${BID[$ba]}" "${PID[$a]}") < \
			$(printf '%010d%s%s' "${RC[$bb]}" "${BID[$bb]}" "${PID[$b]}") ]]; then
			DESIG[$l]=$a
		else
			DESIG[$l]=$b
		fi
		EXP_ROLE[$a]=blocked EXP_ROLE[$b]=blocked
		EXP_ROLE[${DESIG[$l]}]=designated
	done
	for br in "${BRIDGES[@]}"; do
		EXP_RP[$br]=none
		[ "$br" != "$EXP_ROOT" ] || continue
		best=""
		for l in A B C; do
			link_live $l || continue
			read -r a b <<<"${LINK[$l]}"
			for e in $a $b; do
				[ "${e%%:*}" = "$br" ] && [ "$e" != "${DESIG[$l]}" ] || continue
				if [ "$e" = "$a" ]; then far=$b; else far=$a; fi
				bf=${far%%:*}
				key=$(printf '%010d%s%s%s' $((RC[$bf] + COST[$e])) "${BID[$bf]}" "${PID[$far]}" "${PID[$e]}")
				if [ -z "$best" ] || [[ $key < $best ]]; then best=$key EXP_RP[$br]=$e; fi
			done
		done
		[ "${EXP_RP[$br]}" = none ] || EXP_ROLE[${EXP_RP[$br]}]=root
	done
	for e in "${ENDS[@]}"; do
		case "${EXP_ROLE[$e]}" in
		root | designated) EXP_STATE[$e]=forwarding ;;
		blocked) EXP_STATE[$e]=blocking ;;
		esac
	done
}

# matches: the observation is what expect prescribes; else MISMATCH says why.
matches() {
	local br e
	MISMATCH=""
	for br in "${BRIDGES[@]}"; do
		[ "${OBS_ROOT[$br]}" = "${BID[$EXP_ROOT]}" ] ||
			MISMATCH+="$br root ${OBS_ROOT[$br]}, expected ${BID[$EXP_ROOT]} ($EXP_ROOT); "
		[ "${OBS_RC[$br]}" = "${RC[$br]}" ] ||
			MISMATCH+="$br root path cost ${OBS_RC[$br]}, expected ${RC[$br]}; "
		[ "${OBS_RP[$br]}" = "${EXP_RP[$br]}" ] ||
			MISMATCH+="$br root port ${OBS_RP[$br]}, expected ${EXP_RP[$br]}; "
	done
	for e in "${ENDS[@]}"; do
		[ "${EXP_STATE[$e]}" = any ] || [ "${OBS_STATE[$e]}" = "${EXP_STATE[$e]}" ] ||
			MISMATCH+="$e ${OBS_STATE[$e]}, expected ${EXP_STATE[$e]}; "
		# vwired's own role column says the same (kernel sysfs has none).
		if [ "${e%%:*}" = V ] && [ -n "${OBS_ROLE[$e]}" ]; then
			case "${EXP_ROLE[$e]}" in
			any | absent) ;;
			*) [ "${OBS_ROLE[$e]}" = "${EXP_ROLE[$e]}" ] ||
				MISMATCH+="$e role ${OBS_ROLE[$e]}, expected ${EXP_ROLE[$e]}; " ;;
			esac
		fi
	done
	[ -z "$MISMATCH" ]
}

# print_tree: the observed tree with 802.1D's expectation.
print_tree() {
	local br e name
	for br in "${BRIDGES[@]}"; do
		name=${BRNAME[$br]}
		[ "$br" = V ] && name="$name (vwired)"
		printf '    %-2s %-16s id %s  root %s  cost %3s  root port %s\n' "$br" "$name" \
			"${BID[$br]:0:4}.${BID[$br]:4}" "${OBS_ROOT[$br]:0:4}.${OBS_ROOT[$br]:4}" \
			"${OBS_RC[$br]}" "${OBS_RP[$br]}"
		for e in "${ENDS[@]}"; do
			[ "${e%%:*}" = "$br" ] || continue
			printf '         %-7s %-9s port %-4s cost %-4s %-10s (802.1D: %s, %s)\n' "$e" \
				"${IFNAME[$e]}" "${PID[$e]:-}" "${COST[$e]:-}" "${OBS_STATE[$e]}" \
				"${EXP_ROLE[$e]}" "${EXP_STATE[$e]}"
		done
	done
}

# wait_converged LABEL T0: polls until the bridges match 802.1D; prints the tree
# and the time since T0 (date +%s.%N).
wait_converged() {
	local label=$1 t0=$2 deadline=$((SECONDS + CONVERGE_MAX)) t
	while :; do
		observe
		expect
		matches && break
		if [ $SECONDS -ge $deadline ]; then
			echo "  $label: not converged after ${CONVERGE_MAX} s" >&2
			print_tree >&2
			echo "  vwirectl showstp $BRV:" >&2
			vctl showstp "$BRV" >&2 || true
			fail "$label: $MISMATCH"
		fi
		sleep 0.25
	done
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	echo "  $label: converged in $t s (root $EXP_ROOT ${BID[$EXP_ROOT]:0:4}.${BID[$EXP_ROOT]:4})"
	print_tree
}

# check_one_blocked: with every cable in place exactly one port of the loop blocks.
check_one_blocked() {
	local e n=0 which=""
	for e in "${ENDS[@]}"; do
		[ "${OBS_STATE[$e]}" != blocking ] || { n=$((n + 1)); which+=" $e"; }
	done
	[ $n -eq 1 ] || fail "$n ports blocking:$which"
	e=${which# }
	echo "  exactly one port of the loop blocks: $e (${IFNAME[$e]} on ${BRNAME[${e%%:*}]}), as 802.1D prescribes"
}

# pings: the three host addresses reach each other.
pings() {
	local pair ns addr
	for pair in "$NS1 $ADDR_K2" "$NS1 $ADDR_V" "$NS2 $ADDR_V"; do
		read -r ns addr <<<"$pair"
		wait_for 20 ping_ok "$ns" "$addr" && continue
		ping_diag
		[ -z "${STP_HOLD:-}" ] || sleep "$STP_HOLD"
		fail "$1: ping $addr from $ns failed"
	done
	echo "  $1: pings kbr1 -> kbr2, kbr1 -> vwired, kbr2 -> vwired answered"
}

# ping_diag: who thinks which MAC is where, and what vwired dropped.
ping_diag() {
	local br
	{
		echo "  host MACs: brv $(ip -n "$NSV" -br link show "$BRV" | awk '{print $3}')" \
			"kbr1 $(ip -n "$NS1" -br link show "$KBR1" | awk '{print $3}')" \
			"kbr2 $(ip -n "$NS2" -br link show "$KBR2" | awk '{print $3}')"
		echo "  vwirectl showmacs $BRV:"
		vctl showmacs "$BRV" | sed 's/^/    /'
		for br in K1 K2; do
			echo "  bridge fdb ${BRNAME[$br]} (dynamic):"
			ip netns exec "${BRNS[$br]}" bridge fdb show br "${BRNAME[$br]}" |
				grep -v permanent | sed 's/^/    /'
		done
		echo "  neighbours: k1 $(ip -n "$NS1" neigh | tr '\n' ';') k2 $(ip -n "$NS2" neigh | tr '\n' ';') v $(ip -n "$NSV" neigh | tr '\n' ';')"
		echo "  vwirectl show:"
		vctl show | sed 's/^/    /'
		echo "  vwirectl showstp $BRV:"
		vctl showstp "$BRV" | sed 's/^/    /'
	} >&2 2>&1 || true
}

now() { date +%s.%N; }

# ---- tshark: vwired's BPDUs on a kernel port ----

# check_bpdus LABEL NS IF: captures 4 s on IF in NS (a kernel bridge port that
# is one of vwired's port TAPs) and checks vwired's BPDUs against showstp.
check_bpdus() {
	local label=$1 ns=$2 ifn=$3 f=$WORK/$1.pcapng mac vbid vroot vcost vport out n bad
	in_ns "$ns" tshark -n -q -i "$ifn" -a duration:4 -w "$f" >"$WORK/tshark-$label.log" 2>&1 ||
		fail "tshark capture on $ifn failed: $(cat "$WORK/tshark-$label.log")"
	observe_vwired
	vbid=$(jq -r .bridge_id <<<"$VJSON")
	vroot=$(jq -r .designated_root <<<"$VJSON")
	vcost=$(jq -r .path_cost <<<"$VJSON")
	vport=$(jq -r --arg n "$ifn" '.ports[] | select(.name == $n) | .port_id' <<<"$VJSON")
	mac=$(sed 's/^.....//; s/\(..\)/\1:/g; s/:$//' <<<"$vbid")
	bad=$(tshark -n -r "$f" -Y _ws.malformed -T fields -e frame.number 2>"$WORK/tshark.err") ||
		fail "tshark -r $f: $(cat "$WORK/tshark.err")"
	[ -z "$bad" ] || fail "$label: malformed frames in the capture: $bad"
	# The bridge's TAP carries the bridge address too (as a kernel bridge device does),
	# so host traffic shares the source: every frame to the STP group must be STP.
	bad=$(tshark -n -r "$f" -Y "eth.src == $mac && eth.dst == 01:80:c2:00:00:00 && !stp" -T fields -e frame.number 2>"$WORK/tshark.err") ||
		fail "tshark -r $f: $(cat "$WORK/tshark.err")"
	[ -z "$bad" ] || fail "$label: frames from vwired's bridge address $mac to the STP group that are not STP: $bad"
	out=$(tshark -n -r "$f" -Y "stp && eth.src == $mac" -T fields -E separator=, \
		-e eth.dst -e llc.dsap -e stp.protocol -e stp.version -e stp.type \
		-e stp.root.prio -e stp.root.ext -e stp.root.hw -e stp.root.cost \
		-e stp.bridge.prio -e stp.bridge.ext -e stp.bridge.hw -e stp.port \
		-e stp.msg_age -e stp.max_age -e stp.hello -e stp.forward 2>"$WORK/tshark.err") ||
		fail "tshark -r $f: $(cat "$WORK/tshark.err")"
	echo "$out" >"$WORK/$label-bpdus.csv"
	n=$(grep -c . <<<"$out" || true)
	[ "$n" -ge 2 ] || fail "$label: $n BPDUs from $mac in 4 s on $ifn (hello $HELLO s): $(tshark -n -r "$f" 2>&1 | head)"
	awk -F, -v vbid="$vbid" -v vroot="$vroot" -v vcost="$vcost" -v vport="$vport" \
		-v hello=$HELLO -v maxage=$MAXAGE -v fwd=$FWD '
	function id(prio, ext, hw) { gsub(":", "", hw); return sprintf("%04x.%s", prio + ext, hw) }
	function bad(m) { print "BPDU " NR ": " m; errors++ }
	{
		if ($1 != "01:80:c2:00:00:00") bad("destination " $1)
		if ($2 != "0x42") bad("LLC DSAP " $2)
		if ($3 != "0x0000" || $4 != "0") bad("protocol " $3 " version " $4)
		if ($5 == "0x80") { tcn++; next }
		if ($5 != "0x00") bad("BPDU type " $5)
		cfg++
		if (id($6, $7, $8) != vroot) bad("root " id($6, $7, $8) ", showstp says " vroot)
		if ($9 != vcost) bad("root path cost " $9 ", showstp says " vcost)
		if (id($10, $11, $12) != vbid) bad("bridge " id($10, $11, $12) ", showstp says " vbid)
		if (sprintf("0x%s", vport) != $13) bad("port " $13 ", showstp says " vport)
		if ($14 + 0 >= maxage) bad("message age " $14)
		if ($15 + 0 != maxage || $16 + 0 != hello || $17 + 0 != fwd)
			bad("timers max age " $15 " hello " $16 " forward delay " $17)
		if (NR == 1) first = sprintf("root %s cost %s bridge %s port %s msg age %s max age %s hello %s fwd %s",
			id($6, $7, $8), $9, id($10, $11, $12), $13, $14, $15, $16, $17)
	}
	END {
		if (cfg < 2) bad(cfg " configuration BPDUs")
		printf "%d configuration and %d TCN BPDUs; first: %s\n", cfg, tcn, first > "/dev/stderr"
		exit errors > 0
	}' "$WORK/$label-bpdus.csv" >"$WORK/$label-check.txt" 2>"$WORK/$label-summary.txt" ||
		fail "$label: vwired's BPDUs on $ifn do not match showstp:
$(cat "$WORK/$label-check.txt")
showstp: $VJSON"
	echo "  tshark on $ifn ($label): vwired's BPDUs (source $mac) dissect as STP, none malformed;"
	echo "    $(cat "$WORK/$label-summary.txt"): root, cost, bridge, port and timers as showstp"
}

# ---- the rounds ----

kbr_add "$NS1" "$KBR1" 02:4b:00:00:00:01 $ADDR_K1
kbr_add "$NS2" "$KBR2" 02:4b:00:00:00:02 $ADDR_K2
cable_c
T_START=$SECONDS

echo "round 1: vwired priority 4096, kbr1 and kbr2 32768"
kbr_prio K1 32768
kbr_prio K2 32768
t0=$(now)
vwired_start 4096
wait_converged "vwired root" "$t0"
[ "$EXP_ROOT" = V ] || fail "round 1: 802.1D root is $EXP_ROOT, not vwired"
check_one_blocked
BID_V1=${BID[V]}
vctl showstp "$BRV" | sed 's/^/    | /' | head -n 16
pings "round 1"
check_bpdus r1-vwired-root "$NS1" "$TPA"
# Cut the cable to the kernel bridge whose port blocks (its root port).
blocked_br=""
for e in "${ENDS[@]}"; do [ "${OBS_STATE[$e]}" != blocking ] || blocked_br=${e%%:*}; done
if [ "$blocked_br" = K1 ]; then cut=A cutif=$TPA; else cut=B cutif=$TPB; fi
echo "  cut: ip link del $cutif (vwired's TAP, cable $cut)"
ip -n "${BRNS[$blocked_br]}" link del "$cutif"
CUT=$cut CUT_HOW=vdel
t0=$(now)
wait_converged "vwired root, cable $cut cut" "$t0"
pings "round 1 after the cut"
grep -q "$cutif" "${NODE_LOG[$VNAME]}" && echo "  vwired log: $(grep "$cutif" "${NODE_LOG[$VNAME]}" | tail -n 1)"
stop_node "$VNAME"
CUT="" CUT_HOW=""

echo "round 2: vwired restarted with priority 32768, kbr1 4096, kbr2 16384"
kbr_prio K1 4096
kbr_prio K2 16384
t0=$(now)
vwired_start 32768
wait_converged "kbr1 root" "$t0"
[ "$EXP_ROOT" = K1 ] || fail "round 2: 802.1D root is $EXP_ROOT, not kbr1"
[ "${BID[V]:4}" = "${BID_V1:4}" ] || fail "vwired's bridge id MAC changed across a restart: ${BID_V1:4} -> ${BID[V]:4}"
echo "  vwired's bridge address is the same after the restart (${BID[V]:4})"
check_one_blocked
[ "${EXP_ROLE[V:tpb]}" = blocked ] || fail "round 2 was meant to block vwired's port tpb"
pings "round 2"
echo "  cut: ip link del $C1 (veth kbr1 -- kbr2, cable C)"
ip -n "$NS1" link del "$C1"
CUT=C CUT_HOW=del
t0=$(now)
wait_converged "kbr1 root, cable C cut" "$t0"
pings "round 2 after the cut"

echo "round 3: kbr1 49152, kbr2 4096 (vwired keeps running)"
CUT="" CUT_HOW=""
cable_c
kbr_prio K1 49152
kbr_prio K2 4096
t0=$(now)
wait_converged "kbr2 root" "$t0"
[ "$EXP_ROOT" = K2 ] || fail "round 3: 802.1D root is $EXP_ROOT, not kbr2"
check_one_blocked
[ "${EXP_ROLE[K1:tpa]}" = blocked ] || fail "round 3 was meant to block kbr1's port to vwired"
pings "round 3"
check_bpdus r3-kbr2-root "$NS1" "$TPA"
echo "  cut: ip link set $TPB down (vwired's TAP, cable B, in kbr2's namespace)"
ip -n "$NS2" link set "$TPB" down
CUT=B CUT_HOW=down
t0=$(now)
wait_converged "kbr2 root, cable B down" "$t0"
pings "round 3 after the cut"
stop_node "$VNAME"
echo "PASS: stp-kernel ($((SECONDS - T_START)) s)"
