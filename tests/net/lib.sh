#!/bin/bash
# Shared helpers for the net suite. Source it first thing:
#   . "$(dirname "$0")/lib.sh"
# It skips (exit 77) without root or /dev/net/tun, gives every namespace and
# interface a name unique to this run, and removes them all on exit.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "net tests need root"; exit 77; }
[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; exit 77; }
command -v ip >/dev/null || { echo "iproute2 missing"; exit 77; }

: "${VWIRE_BUILD:?VWIRE_BUILD must point at the build directory}"
VWIRED="$VWIRE_BUILD/vwired"
VWIRECTL="$VWIRE_BUILD/vwirectl"
# A short tag unique to this run: namespace and interface names (15 chars max) use it.
TAG=$(printf '%04x' $(( ($$ + RANDOM) % 65536 )))
WORK=$(mktemp -d "/tmp/vwire-net-$TAG.XXXXXX")
NETNS_LIST=()
PIDS=()

cleanup() {
	local rc=$?
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	# netns_add runs in $(...) subshells, so NETNS_LIST may miss names: every namespace
	# of this run carries the "vw$TAG-" prefix, so take them from the system's list.
	NETNS_LIST+=($(ip netns list 2>/dev/null | awk -v p="vw$TAG-" 'index($1, p) == 1 { print $1 }'))
	# Anything still running inside our namespaces (children, daemons) goes too.
	for ns in "${NETNS_LIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	done
	sleep 0.2
	for ns in "${NETNS_LIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ $rc -ne 0 ] && [ -d "$WORK" ]; then
		for f in "$WORK"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 40 lines)"
			tail -n 40 "$f"
		done
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# netns_add NAME: creates namespace "vw$TAG-NAME" with lo up; prints its name.
netns_add() {
	local ns="vw$TAG-$1"
	ip netns add "$ns"
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}

# in_ns NS CMD...: runs CMD inside namespace NS.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# veth_pair NS1 IF1 ADDR1 NS2 IF2 ADDR2: a cable between two namespaces, both ends up.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
	local a
	for a in "$1 $2 $3" "$4 $5 $6"; do
		set -- $a
		[ -n "${3:-}" ] || continue
		case "$3" in
		*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
		*) ip -n "$1" addr add "$3" dev "$2" ;;
		esac
	done
	return 0
}

# bg LOG CMD...: starts CMD in the background, logging to $WORK/LOG; killed at exit.
# LAST_PID is the command's own pid (in_ns becomes `ip netns exec`, which execs it).
bg() {
	local log=$1
	shift
	if [ "$1" = in_ns ]; then
		shift
		set -- ip netns exec "$@"
	fi
	"$@" >"$WORK/$log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# ping_ok NS ADDR [ARGS...]: a few pings, success if one is answered.
ping_ok() {
	local ns=$1 addr=$2
	shift 2
	in_ns "$ns" ping -q -c 3 -i 0.2 -W 2 "$@" "$addr" >/dev/null 2>&1
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ping_outage LOG T_EVENT INTERVAL: what a continuous `ping -D -i INTERVAL` logged to LOG
# saw of an event at T_EVENT (epoch seconds): prints "OUTAGE_S DUPS LOST". The outage
# is the longest gap between consecutive replies after the event, counted from the last
# reply before it (to the microsecond ping -D gives); LOST, the requests that fit in it
# (round(gap / INTERVAL) - 1); DUPS, the duplicate replies over the whole log (a loop
# shows as those). No reply after the event: OUTAGE_S and LOST are "none".
ping_outage() {
	python3 - "$@" <<'PY'
import re, sys
log, t, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
times, dups = [], 0
for l in open(log):
    m = re.match(r"\[(\d+\.\d+)\].*bytes from", l)
    if m:
        times.append(float(m.group(1)))
        dups += "DUP!" in l
before = [x for x in times if x <= t]
after = [x for x in times if x > t]
if not after:
    print("none %d none" % dups)
else:
    prev = before[-1] if before else t
    outage = max(b - a for a, b in zip([prev] + after, after))
    print("%.6f %d %d" % (outage, dups, round(outage / interval) - 1))
PY
}

# ---- WireGuard helpers for the routed tests (routed-*.sh, uapi-wg.sh) ----
#
# A "node" is one WireGuard interface in a namespace, run either by vwired
# (KIND vwired) or by Debian's wireguard-go (KIND wggo). Tests name nodes by
# their interface name, which is also the UAPI socket's name under
# /run/wireguard: that directory is shared by every namespace, so the names
# carry $TAG. VWIRED_IO picks how vwired runs: uring (--io uring), epoll
# (--io epoll), noiouring (io_uring refused by tests/tools/noiouring, --io left
# at auto, and the fallback's one log line is asserted), empty: auto.
# VWIRE_TEST_IMPL=wggo makes every "vwired" node a wireguard-go one, to prove
# the harness itself before (or without) vwired.

declare -A NODE_KIND=() NODE_NS=() NODE_PID=() NODE_LOG=() NODE_RUNDIR=()
RUN_DIR=/run
NOIOURING_STARTS=0
VWIRE_TEST_IMPL=${VWIRE_TEST_IMPL:-vwired}

skip() {
	echo "SKIP: $*"
	exit 77
}

# need_cmd CMD...: skips the test when one is not installed.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c not installed"
	done
}

# need_vxlan: skips without the kernel's vxlan (the kernel path's hosts need it).
need_vxlan() {
	ip link add "vwtest$TAG" type vxlan id 1 dstport 4789 2>/dev/null || skip "no vxlan support"
	ip link del "vwtest$TAG"
}

# need_vwired: skips without the binaries this run's VWIRED_IO needs.
need_vwired() {
	[ "$VWIRE_TEST_IMPL" = wggo ] && { need_cmd wireguard-go wg; return 0; }
	[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"
	[ -x "$VWIRECTL" ] || skip "vwirectl not built"
	case "${VWIRED_IO:-}" in
	"" | auto | uring | epoll) ;;
	noiouring) [ -x "$VWIRE_BUILD/tests/tools/noiouring" ] ||
		skip "tests/tools/noiouring not built" ;;
	*) fail "VWIRED_IO=$VWIRED_IO: expected uring, epoll or noiouring" ;;
	esac
}

# node_kind KIND: the kind actually run for a node the test wants as KIND.
node_kind() {
	if [ "$1" = vwired ] && [ "$VWIRE_TEST_IMPL" = wggo ]; then echo wggo; else echo "$1"; fi
}

# keygen NAME: $WORK/NAME.key and $WORK/NAME.pub (base64, as wg genkey/pubkey).
keygen() {
	(umask 077 && wg genkey >"$WORK/$1.key")
	wg pubkey <"$WORK/$1.key" >"$WORK/$1.pub"
}
key_priv() { cat "$WORK/$1.key"; }
key_pub() { cat "$WORK/$1.pub"; }
# pskgen NAME: $WORK/NAME.psk.
pskgen() { (umask 077 && wg genpsk >"$WORK/$1.psk"); }

# underlay NSA IFA NSB IFB N: a veth between NSA and NSB with IPv4
# 192.168.N.1/24 (A) and .2 (B) and IPv6 fd10:N::1/64 and ::2; sets UL4_A,
# UL4_B, UL6_A, UL6_B.
underlay() {
	UL4_A=192.168.$5.1 UL4_B=192.168.$5.2 UL6_A=fd10:$5::1 UL6_B=fd10:$5::2
	veth_pair "$1" "$2" "" "$3" "$4" ""
	ip -n "$1" addr add "$UL4_A/24" dev "$2"
	ip -n "$3" addr add "$UL4_B/24" dev "$4"
	ip -n "$1" addr add "$UL6_A/64" dev "$2" nodad
	ip -n "$3" addr add "$UL6_B/64" dev "$4" nodad
}

# peer_section KEYNAME ALLOWEDIPS [ENDPOINT] [PSKNAME] [KEEPALIVE]: a [Peer]
# section for the peer whose key is KEYNAME (empty arguments are left out).
peer_section() {
	echo "[Peer]"
	echo "PublicKey = $(key_pub "$1")"
	[ -z "${4:-}" ] || echo "PresharedKey = $(cat "$WORK/$4.psk")"
	echo "AllowedIPs = $2"
	[ -z "${3:-}" ] || echo "Endpoint = $3"
	[ -z "${5:-}" ] || echo "PersistentKeepalive = $5"
	return 0
}

# vwired_argv: the command prefix that runs vwired as VWIRED_IO asks, in VWIRED_ARGV.
vwired_argv() {
	VWIRED_ARGV=()
	case "${VWIRED_IO:-}" in
	noiouring)
		# Alternate the two refusals seen in the wild: EPERM (Docker's
		# seccomp profile) and ENOSYS (qemu-user, old kernels).
		local e=EPERM
		[ $((NOIOURING_STARTS % 2)) -eq 0 ] || e=ENOSYS
		NOIOURING_STARTS=$((NOIOURING_STARTS + 1))
		VWIRED_ARGV=("$VWIRE_BUILD/tests/tools/noiouring" --errno "$e" "$VWIRED")
		;;
	uring) VWIRED_ARGV=("$VWIRED" --io uring) ;;
	epoll) VWIRED_ARGV=("$VWIRED" --io epoll) ;;
	*) VWIRED_ARGV=("$VWIRED") ;;
	esac
	[ -z "${VWIRED_VERBOSE:-}" ] || VWIRED_ARGV+=(-v)
	case "${VWIRED_OFFLOAD:-}" in
	0) VWIRED_ARGV+=(--no-offload) ;;
	1) VWIRED_ARGV+=(--offload) ;;
	esac
	[ -z "${VWIRED_WORKERS:-}" ] || VWIRED_ARGV+=(--workers "$VWIRED_WORKERS")
	return 0
}

# fallback_lines LOG: how many lines of LOG say vwired fell back from io_uring to epoll.
fallback_lines() {
	grep -ciE 'io_uring.*epoll|epoll.*io_uring' "$1" || true
}

# check_io_backend LOGFILE NAME: after a vwired start, its log and vwirectl
# agree with VWIRED_IO.
check_io_backend() {
	local n name=$2
	n=$(fallback_lines "$1")
	# The backend vwirectl reports, where it reports one.
	local io want=""
	io=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$name" --json 2>/dev/null | jq -r '.io // empty' 2>/dev/null || true)
	case "${VWIRED_IO:-}" in
	uring) want=io_uring ;;
	epoll | noiouring) want=epoll ;;
	esac
	[ -z "$io" ] || [ -z "$want" ] || [ "$io" = "$want" ] ||
		fail "VWIRED_IO=$VWIRED_IO but vwirectl show $name reports io \"$io\""
	case "${VWIRED_IO:-}" in
	noiouring)
		[ "$n" -eq 1 ] || fail "io_uring refused: expected exactly one log line about falling back to epoll, found $n in $1:
$(head -n 20 "$1")"
		echo "  fallback logged: $(grep -iE 'io_uring.*epoll|epoll.*io_uring' "$1")"
		;;
	uring)
		[ "$n" -eq 0 ] || fail "--io uring but the log speaks of epoll: $(grep -iE 'io_uring.*epoll|epoll.*io_uring' "$1")"
		;;
	esac
	return 0
}

# wait_alive SECONDS PID CMD...: like wait_for, but gives up at once when PID exits.
wait_alive() {
	local deadline=$((SECONDS + $1)) pid=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || return 2
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# start_vwired NS CONF NAME [ARGS...]: runs vwired -c CONF in NS (in the
# current namespace when NS is "-"), in the foreground mode, logging to
# $WORK/NAME.log, behind the command prefix in the array VWIRED_WRAP if set;
# returns when its UAPI socket (RUN_DIR/wireguard/NAME.sock) and control
# socket exist and it said it is listening (after a kill -9 the dead one's
# sockets are still there until the new one replaces them).
VWIRED_WRAP=()
vwired_up() { # RUN_DIR NAME
	[ -S "$1/wireguard/$2.sock" ] && [ -S "$1/vwire/$2.ctl" ] &&
		grep -q ": listening on UDP" "$WORK/$2.log"
}
start_vwired() {
	local ns=$1 conf=$2 name=$3 rc=0 nsexec=()
	shift 3
	vwired_argv
	[ "$ns" = - ] || nsexec=(ip netns exec "$ns")
	bg "$name.log" "${nsexec[@]}" "${VWIRED_WRAP[@]}" "${VWIRED_ARGV[@]}" -c "$conf" --run-dir "$RUN_DIR" "$@"
	NODE_KIND[$name]=vwired NODE_NS[$name]=$ns NODE_PID[$name]=$LAST_PID
	NODE_LOG[$name]=$WORK/$name.log NODE_RUNDIR[$name]=$RUN_DIR
	wait_alive 10 "$LAST_PID" vwired_up "$RUN_DIR" "$name" || rc=$?
	[ $rc -ne 2 ] || fail "vwired ($name) exited during start-up: $(tail -n 20 "$WORK/$name.log")"
	[ $rc -eq 0 ] || fail "vwired ($name): not listening (sockets $RUN_DIR/wireguard/$name.sock and $RUN_DIR/vwire/$name.ctl, and the log line) after 10 s: $(tail -n 5 "$WORK/$name.log")"
	check_io_backend "$WORK/$name.log" "$name"
}

# start_wggo NS NAME: wireguard-go -f NAME in NS; returns when its UAPI socket exists.
start_wggo() {
	local ns=$1 name=$2 rc=0
	bg "$name.log" ip netns exec "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go -f "$name"
	NODE_KIND[$name]=wggo NODE_NS[$name]=$ns NODE_PID[$name]=$LAST_PID
	NODE_LOG[$name]=$WORK/$name.log NODE_RUNDIR[$name]=/run
	wait_alive 10 "$LAST_PID" test -S "/run/wireguard/$name.sock" || rc=$?
	[ $rc -eq 0 ] || fail "wireguard-go ($name) did not start: $(tail -n 20 "$WORK/$name.log")"
}

# wg_node KIND NS NAME KEYNAME PORT ADDR4 ADDR6 PEERS: a WireGuard interface
# NAME in NS with tunnel addresses ADDR4/24 and ADDR6/64, listening on PORT,
# with the [Peer] sections in the file PEERS. vwired gets them all in its
# config file; wireguard-go through `wg setconf` and ip.
wg_node() {
	local kind ns=$2 name=$3 key=$4 port=$5 a4=$6 a6=$7 peers=$8
	kind=$(node_kind "$1")
	case "$kind" in
	vwired)
		{
			echo "[Interface]"
			echo "Name = $name"
			echo "PrivateKey = $(key_priv "$key")"
			echo "ListenPort = $port"
			echo "Address = $a4/24"
			echo "Address = $a6/64"
			echo "MTU = 1420"
			cat "$peers"
		} >"$WORK/$name.conf"
		start_vwired "$ns" "$WORK/$name.conf" "$name"
		;;
	wggo)
		{
			echo "[Interface]"
			echo "PrivateKey = $(key_priv "$key")"
			echo "ListenPort = $port"
			cat "$peers"
		} >"$WORK/$name.setconf"
		start_wggo "$ns" "$name"
		in_ns "$ns" wg setconf "$name" "$WORK/$name.setconf" ||
			fail "wg setconf $name failed"
		ip -n "$ns" addr add "$a4/24" dev "$name"
		ip -n "$ns" addr add "$a6/64" dev "$name" nodad
		ip -n "$ns" link set "$name" mtu 1420 up
		;;
	*) fail "wg_node: unknown kind $kind" ;;
	esac
}

# stop_node NAME: SIGTERM, and for vwired: exit status 0 within 5 s, both
# sockets and the TUN gone.
stop_node() {
	local name=$1 pid=${NODE_PID[$1]} rc=0 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$name (${NODE_KIND[$name]}) still running 5 s after SIGTERM"
	wait "$pid" 2>/dev/null || rc=$?
	[ "${NODE_KIND[$name]}" = vwired ] || return 0
	[ $rc -eq 0 ] || fail "vwired ($name) exited with status $rc on SIGTERM: $(tail -n 5 "${NODE_LOG[$name]}")"
	local rd=${NODE_RUNDIR[$name]}
	[ ! -e "$rd/wireguard/$name.sock" ] || fail "vwired ($name) left $rd/wireguard/$name.sock behind"
	[ ! -e "$rd/vwire/$name.ctl" ] || fail "vwired ($name) left $rd/vwire/$name.ctl behind"
	if [ "${NODE_NS[$name]}" != - ] && ip -n "${NODE_NS[$name]}" link show "$name" >/dev/null 2>&1; then
		ip -n "${NODE_NS[$name]}" -d link show "$name" | grep -q 'persist on' ||
			fail "vwired ($name) left its TUN $name behind"
	fi
	return 0
}

# wg_dump NAME: `wg show NAME dump` (UAPI of vwired or wireguard-go).
wg_dump() { wg show "$1" dump; }

# peer_field NAME PUBKEY FIELD: one column of NAME's `wg show dump` line for
# PUBKEY: endpoint, allowed, handshake, rx, tx, keepalive, psk.
peer_field() {
	local col
	case "$3" in
	psk) col=2 ;; endpoint) col=3 ;; allowed) col=4 ;; handshake) col=5 ;;
	rx) col=6 ;; tx) col=7 ;; keepalive) col=8 ;; *) fail "peer_field: $3" ;;
	esac
	wg show "$1" dump | awk -F'\t' -v k="$2" -v c=$col 'NR > 1 && $1 == k { print $c }'
}

# iperf_run NS_CLIENT NS_SERVER SERVER_ADDR LABEL [IPERF ARGS...]: a 3 s
# iperf3 TCP run; prints LABEL and the Gbit/s received; fails when nothing
# arrives. The speed is reported, not asserted.
iperf_run() {
	local nc=$1 nsv=$2 addr=$3 label=$4 out bps
	shift 4
	bg "iperf-server-$label.log" ip netns exec "$nsv" iperf3 -s -1 -p 5201
	wait_for 5 sh -c "ip netns exec $nsv ss -Hltn 'sport = :5201' | grep -q LISTEN" ||
		fail "iperf3 server did not start"
	out=$(in_ns "$nc" timeout 30 iperf3 -c "$addr" -p 5201 -t 3 -J "$@" 2>&1) ||
		fail "iperf3 $label failed: $(echo "$out" | jq -r '.error // empty' 2>/dev/null || echo "$out" | tail -n 5)"
	bps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second')
	awk -v b="$bps" 'BEGIN { exit !(b > 0) }' || fail "iperf3 $label: nothing received"
	printf '  iperf3 %s: %.2f Gbit/s (3 s TCP, %s)\n' "$label" \
		"$(awk -v b="$bps" 'BEGIN { print b / 1e9 }')" "$(echo "$out" | jq -r '.end.sum_sent.retransmits // 0') retransmits"
}

# tcp_check NS_FROM NS_TO ADDR BYTES LABEL: BYTES pseudo-random bytes over one TCP
# connection from NS_FROM to ADDR (in NS_TO); fails unless the receiver got exactly
# what was sent (count and SHA-256: a data plane that rewrites checksums could
# corrupt payload without TCP noticing).
tcp_check() {
	local from=$1 to=$2 addr=$3 bytes=$4 label=$5 port=$((20000 + RANDOM % 20000)) sent got
	local tool
	tool="$(dirname "${BASH_SOURCE[0]}")/tcpcheck.py"
	bg "tcpcheck-$label.log" ip netns exec "$to" python3 "$tool" recv "$addr" "$port"
	local rpid=$LAST_PID
	wait_for 5 sh -c "ip netns exec $to ss -Hltn 'sport = :$port' | grep -q LISTEN" ||
		fail "tcp_check $label: receiver did not start"
	sent=$(in_ns "$from" timeout 120 python3 "$tool" send "$addr" "$port" "$bytes") ||
		fail "tcp_check $label: sending failed"
	wait "$rpid" || true
	got=$(cat "$WORK/tcpcheck-$label.log")
	[ "$sent" = "$got" ] || fail "tcp_check $label: sent '$sent', received '$got'"
	echo "  tcp $label: $bytes bytes arrived intact"
}

# kernel_at_least MAJOR MINOR: prints yes when the running kernel is that or newer.
kernel_at_least() {
	local v
	v=$(uname -r)
	awk -v v="${v%%-*}" -v a="$1" -v b="$2" 'BEGIN { split(v, x, "."); print (x[1] > a || (x[1] == a && x[2] >= b)) ? "yes" : "no" }'
}

# tcp_check_parallel N NS_FROM NS_TO ADDR BYTES LABEL: N connections at once, each
# checked like tcp_check.
tcp_check_parallel() {
	local n=$1 from=$2 to=$3 addr=$4 bytes=$5 label=$6 i tool base=$((20000 + RANDOM % 20000))
	local rpids=() spids=()
	tool="$(dirname "${BASH_SOURCE[0]}")/tcpcheck.py"
	for ((i = 0; i < n; i++)); do
		bg "tcpcheck-$label-$i.log" ip netns exec "$to" python3 "$tool" recv "$addr" $((base + i))
		rpids+=("$LAST_PID")
	done
	for ((i = 0; i < n; i++)); do
		wait_for 5 sh -c "ip netns exec $to ss -Hltn 'sport = :$((base + i))' | grep -q LISTEN" ||
			fail "tcp_check_parallel $label: receiver $i did not start"
	done
	for ((i = 0; i < n; i++)); do
		in_ns "$from" timeout 120 python3 "$tool" send "$addr" $((base + i)) "$bytes" \
			>"$WORK/tcpcheck-$label-$i.sent" &
		spids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${spids[$i]}" || fail "tcp_check_parallel $label: sender $i failed"
		wait "${rpids[$i]}" || true
		[ "$(cat "$WORK/tcpcheck-$label-$i.sent")" = "$(cat "$WORK/tcpcheck-$label-$i.log")" ] ||
			fail "tcp_check_parallel $label: connection $i: sent '$(cat "$WORK/tcpcheck-$label-$i.sent")', received '$(cat "$WORK/tcpcheck-$label-$i.log")'"
	done
	echo "  tcp $label: $n connections at once, $bytes bytes each arrived intact"
}

# udp_check NS_FROM NS_TO ADDR COUNT SIZE LABEL [FLOWS]: COUNT datagrams of SIZE bytes
# from NS_FROM to ADDR (in NS_TO), from FLOWS source ports (default 1), each checked on
# arrival; fails if one arrived altered or fewer than half arrived (the bursts are
# paced, so a clean path loses few).
udp_check() {
	local from=$1 to=$2 addr=$3 count=$4 size=$5 label=$6 flows=${7:-1}
	local port=$((20000 + RANDOM % 20000))
	local tool good bad
	tool="$(dirname "${BASH_SOURCE[0]}")/udpcheck.py"
	bg "udpcheck-$label.log" ip netns exec "$to" python3 "$tool" recv "$addr" "$port" 1
	local rpid=$LAST_PID
	wait_for 5 grep -q ready "$WORK/udpcheck-$label.log" || fail "udp_check $label: receiver did not start"
	in_ns "$from" timeout 60 python3 "$tool" send "$addr" "$port" "$count" "$size" "$flows" ||
		fail "udp_check $label: sending failed"
	wait "$rpid" || true
	read -r good bad < <(tail -n 1 "$WORK/udpcheck-$label.log")
	[ "$bad" -eq 0 ] || fail "udp_check $label: $bad of $count datagrams arrived altered"
	[ "$good" -ge $((count / 2)) ] || fail "udp_check $label: only $good of $count datagrams arrived"
	echo "  udp $label: $good of $count datagrams of $size bytes arrived intact"
}

# capture_start NS IF FILE: tshark writing UDP on IF to FILE; returns once capturing.
capture_start() {
	bg "tshark-$(basename "$3").log" ip netns exec "$1" tshark -n -i "$2" -f udp -w "$3"
	CAPTURE_PID=$LAST_PID
	wait_alive 15 "$CAPTURE_PID" grep -q "Capturing on" "$WORK/tshark-$(basename "$3").log" ||
		fail "tshark did not start capturing: $(cat "$WORK/tshark-$(basename "$3").log")"
}

# capture_stop: ends the capture started last and waits for the file.
capture_stop() {
	kill -INT "$CAPTURE_PID" 2>/dev/null || true
	wait "$CAPTURE_PID" 2>/dev/null || true
}

# ping_both NSA ADDRA NSB ADDRB LABEL: pings A->B and B->A (retrying for up to
# 10 s, the first may wait for a handshake); prints what passed.
ping_both() {
	wait_for 10 ping_ok "$1" "$4" || fail "$5: ping $4 from $1 failed"
	wait_for 10 ping_ok "$3" "$2" || fail "$5: ping $2 from $3 failed"
	echo "  ping $5: $4 from A and $2 from B answered"
}

# check_wg_capture FILE INIT_SRC IKEY RKEY PORT...: the capture FILE (UDP on
# the underlay) dissects as WireGuard on PORTs with no malformed packet or
# error, and tshark, given both static private keys (IKEY, RKEY), validates
# the handshake: the first initiation comes from INIT_SRC, its mac1 is for
# RKEY's public key, its encrypted static decrypts to IKEY's public key and its
# TAI64N timestamp is the capture time; the response answers it (mac1 for
# IKEY, receiver = initiation's sender); transport data flows both ways, to
# the indices the handshake set up.
check_wg_capture() {
	local file=$1 init_src=$2 ikey=$3 rkey=$4 p out bad
	shift 4
	local dargs=() ports=()
	for p in "$@"; do dargs+=(-d "udp.port==$p,wg"); ports+=("$p"); done
	{
		echo "LOCAL_STATIC_PRIVATE_KEY = $(key_priv "$ikey")"
		echo "LOCAL_STATIC_PRIVATE_KEY = $(key_priv "$rkey")"
	} >"$WORK/keylog"
	local targs=(-n -r "$file" -o "wg.keylog_file:$WORK/keylog" "${dargs[@]}")
	tshark "${targs[@]}" -V >"$WORK/dissect.txt" 2>"$WORK/dissect.err" ||
		fail "tshark -r $file failed: $(cat "$WORK/dissect.err")"
	bad=$(grep -n -m 5 -iE 'Malformed|Expert Info \(Error|Packet length is too small|decryption failed' \
		"$WORK/dissect.txt" || true)
	[ -z "$bad" ] || fail "tshark finds bad WireGuard packets in $file:
$bad"
	local pf
	pf="udp.port in {$(IFS=,; echo "${ports[*]}")}"
	tshark "${targs[@]}" -Y "$pf && !wg" -T fields -e frame.number >"$WORK/not-wg.txt" \
		2>"$WORK/dissect.err" || fail "tshark -Y failed: $(cat "$WORK/dissect.err")"
	[ ! -s "$WORK/not-wg.txt" ] ||
		fail "UDP packets on the WireGuard ports that do not dissect as WireGuard: frames $(tr '\n' ' ' <"$WORK/not-wg.txt")"
	tshark "${targs[@]}" -Y wg -T fields -E separator=/t -E occurrence=f \
		-e frame.number -e ip.src -e ipv6.src -e wg.type -e wg.sender -e wg.receiver \
		-e wg.static -e wg.receiver_pubkey -e wg.timestamp.tai64_label -e frame.time_epoch \
		-e wg.response_to -e wg.reserved >"$WORK/wg-fields.tsv" 2>"$WORK/dissect.err" ||
		fail "tshark -T fields failed: $(cat "$WORK/dissect.err")"
	awk -F'\t' -v isrc="$init_src" -v ipub="$(key_pub "$ikey")" -v rpub="$(key_pub "$rkey")" '
	function bad(msg) { print "frame " $1 ": " msg; errors++ }
	{
		src = $2 != "" ? $2 : $3; type = $4
		if ($12 != "" && $12 != "000000" && $12 != "00:00:00") bad("reserved bytes " $12)
		if (type == 1) {
			n1++
			if (n1 == 1) {
				if (src != isrc) bad("first initiation from " src ", expected " isrc)
				if ($7 != ipub) bad("initiation static decrypts to \"" $7 "\", expected " ipub)
				if ($8 != rpub) bad("initiation mac1 is not for the responder (" $8 ")")
				# TAI64N label: 2^62 + 10 + Unix seconds (as the kernel and
				# wireguard-go) = 4611686018427387914 + t; awk has doubles
				# only, so subtract on the last eleven digits (no carry
				# out of them for t < 8e10).
				ts = -1e12; now = $10 + 0
				if (length($9) == 19 && substr($9, 1, 8) == "46116860")
					ts = substr($9, 9) - 18427387914
				if (ts < now - 60 || ts > now + 60) bad("initiation timestamp " ts " far from capture time " now)
			} else if ($7 != ipub && $7 != rpub) bad("initiation with unknown static " $7)
			sender_of[$5] = src; init_sender[$5] = 1
		} else if (type == 2) {
			n2++
			if (!($6 in init_sender)) bad("response to unknown initiation index " $6)
			if ($11 == "") bad("response not matched to an initiation")
			if ($8 != ipub && $8 != rpub) bad("response mac1 is for no known key (" $8 ")")
			sender_of[$5] = src; resp_sender[$5] = 1
		} else if (type == 3) {
			n3++
		} else if (type == 4) {
			if (!($6 in sender_of)) bad("transport data to unknown index " $6)
			else if (sender_of[$6] == src) bad("transport data to index " $6 " came from its owner")
			if (src == isrc) n4i++; else n4r++
		} else bad("message type " type)
	}
	END {
		if (n1 < 1) { print "no handshake initiation captured"; errors++ }
		if (n2 < 1) { print "no handshake response captured"; errors++ }
		if (n4i < 1 || n4r < 1) { print "transport data: " n4i + 0 " from the initiator, " n4r + 0 " from the responder"; errors++ }
		printf "  tshark: %d initiation(s) (first from %s, static and mac1 verified), %d response(s), %d cookie(s), %d+%d transport data, none malformed\n", n1, isrc, n2, n3, n4i, n4r > "/dev/stderr"
		exit errors > 0
	}' "$WORK/wg-fields.tsv" >"$WORK/wg-check.txt" 2>"$WORK/wg-summary.txt" ||
		fail "WireGuard capture check: $(cat "$WORK/wg-check.txt")"
	cat "$WORK/wg-summary.txt"
}

# ep_str ADDR PORT: the endpoint as wg prints it ("[v6]:port" for IPv6).
ep_str() {
	case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac
}

# check_peer_state NAME PEERKEY ENDPOINT: wg show NAME reports PEERKEY at
# ENDPOINT with a recent handshake and traffic both ways.
check_peer_state() {
	local name=$1 pub ep hs rx tx now
	pub=$(key_pub "$2")
	ep=$(peer_field "$name" "$pub" endpoint)
	[ -n "$ep" ] || fail "wg show $name: peer $pub missing: $(wg show "$name" 2>&1)"
	[ "$ep" = "$3" ] || fail "wg show $name: endpoint $ep, expected $3"
	hs=$(peer_field "$name" "$pub" handshake)
	rx=$(peer_field "$name" "$pub" rx)
	tx=$(peer_field "$name" "$pub" tx)
	now=$(date +%s)
	[ "$hs" -gt $((now - 120)) ] && [ "$hs" -le $((now + 5)) ] ||
		fail "wg show $name: latest handshake $hs, now $now"
	[ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "wg show $name: transfer rx $rx tx $tx"
	echo "  wg show $name: endpoint $ep, handshake $((now - hs)) s ago, rx $rx tx $tx bytes"
}

# check_vwirectl NAME PEERKEY ENDPOINT_ADDR: vwirectl show NAME and --json list
# the peer (public key) and its endpoint address.
check_vwirectl() {
	local name=$1 pub=$(key_pub "$2") addr=$3 out
	[ "${NODE_KIND[$name]}" = vwired ] || return 0
	out=$("$VWIRECTL" --run-dir "${NODE_RUNDIR[$name]}" show "$name" 2>&1) ||
		fail "vwirectl show $name failed: $out"
	grep -qF -- "$pub" <<<"$out" || fail "vwirectl show $name does not list peer $pub:
$out"
	grep -qF -- "$addr" <<<"$out" || fail "vwirectl show $name does not show endpoint $addr:
$out"
	out=$("$VWIRECTL" --run-dir "${NODE_RUNDIR[$name]}" show "$name" --json 2>&1) ||
		fail "vwirectl show $name --json failed: $out"
	jq -e . >/dev/null <<<"$out" || fail "vwirectl show $name --json is not JSON: $out"
	jq -e --arg k "$pub" '[.. | strings | select(. == $k)] | length > 0' >/dev/null <<<"$out" ||
		fail "vwirectl show $name --json has no string equal to the peer key $pub: $out"
	jq -e --arg a "$addr" '[.. | strings | select(contains($a))] | length > 0' >/dev/null <<<"$out" ||
		fail "vwirectl show $name --json has no endpoint containing $addr: $out"
	echo "  vwirectl show $name (text and --json): peer and endpoint listed"
}

# check_drops NAME: vwirectl show --json's drop counters; prints the non-zero
# ones and fails on those that honest peers on a clean cable never cause
# (malformed messages, bad mac1, failed decryption).
check_drops() {
	local name=$1 out nz bad
	[ "${NODE_KIND[$name]}" = vwired ] || return 0
	out=$("$VWIRECTL" --run-dir "${NODE_RUNDIR[$name]}" show "$name" --json 2>/dev/null) || return 0
	nz=$(jq -r '(.drops // {}) | to_entries | map(select(.value != 0)) | map("\(.key)=\(.value)") | join(" ")' <<<"$out")
	bad=$(jq -r '(.drops // {}) | to_entries | map(select(.value != 0 and (.key |
		test("^rx_(bad_type|bad_size|bad_mac1|handshake_decrypt|handshake_dh|bad_tag|bad_cookie)$"))))
		| map("\(.key)=\(.value)") | join(" ")' <<<"$out")
	[ -z "$bad" ] || fail "vwired ($name) dropped what an honest peer sent: $bad (all non-zero: $nz)"
	echo "  $name drops: ${nz:-none}"
}

# routed_round N KIND_A KIND_B INIT UL PSK IPERF CAPTURE: one fresh pair of
# nodes over the underlay set up by underlay() between $NS_A and $NS_B. INIT
# (a|b) pings first, so it initiates the handshake; UL (4|6) is the underlay
# family of the endpoints; PSK yes|no; IPERF "" or "a" or "b" (iperf3 client
# side); CAPTURE yes|no (tshark on A's underlay, checked with check_wg_capture).
# Both nodes are stopped at the end (vwired: clean exit asserted).
routed_round() {
	local n=$1 ka=$2 kb=$3 init=$4 ul=$5 psk=$6 iperf=$7 cap=$8
	local na="a${TAG}r$n" nb="b${TAG}r$n" pa=$((51820 + 2 * n)) pb=$((51821 + 2 * n))
	local t4a=10.$NET.0.1 t4b=10.$NET.0.2 t6a=fd00:$NET::1 t6b=fd00:$NET::2 eaddr_a eaddr_b
	local pskname=""
	if [ "$ul" = 6 ]; then eaddr_a=$UL6_A eaddr_b=$UL6_B; else eaddr_a=$UL4_A eaddr_b=$UL4_B; fi
	echo "round $n: A=$(node_kind "$ka") B=$(node_kind "$kb"), $init initiates, IPv$ul endpoints, PSK $psk"
	if [ "$psk" = yes ]; then pskgen "r$n"; pskname="r$n"; fi
	peer_section kb "$t4b/32,$t6b/128" "$(ep_str "$eaddr_b" $pb)" "$pskname" >"$WORK/$na.peers"
	peer_section ka "$t4a/32,$t6a/128" "$(ep_str "$eaddr_a" $pa)" "$pskname" >"$WORK/$nb.peers"
	[ "$cap" = yes ] && capture_start "$NS_A" "$IF_A" "$WORK/round$n.pcapng"
	wg_node "$ka" "$NS_A" "$na" ka $pa $t4a $t6a "$WORK/$na.peers"
	wg_node "$kb" "$NS_B" "$nb" kb $pb $t4b $t6b "$WORK/$nb.peers"
	if [ "$init" = a ]; then
		wait_for 10 ping_ok "$NS_A" $t4b || fail "round $n: first ping A -> B ($t4b) failed"
	else
		wait_for 10 ping_ok "$NS_B" $t4a || fail "round $n: first ping B -> A ($t4a) failed"
	fi
	ping_both "$NS_A" $t4a "$NS_B" $t4b "IPv4 inner"
	ping_both "$NS_A" $t6a "$NS_B" $t6b "IPv6 inner"
	# A full 1420-byte inner packet: 1500 bytes on an IPv6 underlay, no fragmentation.
	wait_for 10 ping_ok "$NS_A" $t4b -s 1392 -M do || fail "round $n: 1420-byte inner packets do not pass"
	echo "  ping: 1420-byte IPv4 packets (the tunnel MTU, DF set) pass"
	check_peer_state "$na" kb "$(ep_str "$eaddr_b" $pb)"
	check_peer_state "$nb" ka "$(ep_str "$eaddr_a" $pa)"
	if [ "$psk" = yes ]; then
		[ "$(peer_field "$na" "$(key_pub kb)" psk)" = "$(cat "$WORK/r$n.psk")" ] ||
			fail "wg show $na dump does not report the preshared key"
	fi
	if [ "$cap" = yes ]; then
		capture_stop
		if [ "$init" = a ]; then
			check_wg_capture "$WORK/round$n.pcapng" "$eaddr_a" ka kb $pa $pb
		else
			check_wg_capture "$WORK/round$n.pcapng" "$eaddr_b" kb ka $pa $pb
		fi
	fi
	case "$iperf" in
	a) iperf_run "$NS_A" "$NS_B" $t4b "$(node_kind "$ka")->$(node_kind "$kb")" ;;
	b) iperf_run "$NS_B" "$NS_A" $t4a "$(node_kind "$kb")->$(node_kind "$ka")" ;;
	esac
	check_vwirectl "$na" kb "$eaddr_b"
	check_vwirectl "$nb" ka "$eaddr_a"
	check_drops "$na"
	check_drops "$nb"
	stop_node "$na"
	stop_node "$nb"
	if [ "${NODE_KIND[$na]}${NODE_KIND[$nb]}" != wggowggo ]; then
		echo "  vwired stopped cleanly: exit 0 on SIGTERM, sockets and TUN removed"
	fi
}
