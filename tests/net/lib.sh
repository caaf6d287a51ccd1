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
	for ns in "${NETNS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
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
	[ -n "$3" ] && ip -n "$1" addr add "$3" dev "$2" nodad
	[ -n "$6" ] && ip -n "$4" addr add "$6" dev "$5" nodad
	return 0
}

# bg LOG CMD...: starts CMD in the background, logging to $WORK/LOG; killed at exit.
bg() {
	local log=$1
	shift
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
