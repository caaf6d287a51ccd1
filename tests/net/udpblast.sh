#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/net/udpblast, the 64-byte UDP load of bench/net/run, counted right: over a
# namespace's loopback (nothing in the way drops), paced and flooding, IPv4 and IPv6,
# every datagram the sender reports arrives, in order and of the asked length; the
# pacing never sends more than the rate allows; bad arguments get exit 2 and a message.
. "$(dirname "$0")/lib.sh"
UDPBLAST=$VWIRE_BUILD/bench/net/udpblast
[ -x "$UDPBLAST" ] || fail "no $UDPBLAST (meson compile)"
NS=$(netns_add u)

# blast NAME ADDR PORT SENDER_ARGS...: one sink and one sender, their lines in $WORK/NAME.*
blast() {
	local name=$1 addr=$2 port=$3 rx
	shift 3
	bg "$name.rx" in_ns "$NS" "$UDPBLAST" recv "$port" -i 0.5 -m 20 -w 4194304
	rx=$LAST_PID
	wait_for 10 grep -q listening "$WORK/$name.rx" || fail "$name: the sink did not start"
	in_ns "$NS" "$UDPBLAST" send "$addr" "$port" "$@" >"$WORK/$name.tx" ||
		fail "$name: sender failed: $(cat "$WORK/$name.tx")"
	wait "$rx" || fail "$name: the sink got nothing: $(cat "$WORK/$name.rx")"
	read -r _ SENT SECS REFUSED CPU <"$WORK/$name.tx"
	read -r _ GOT _ REORDERED BYTES _ < <(grep '^received' "$WORK/$name.rx")
	[ -n "$CPU" ] && [ -n "$BYTES" ] || fail "$name: short output"
	echo "$name: sent $SENT in $SECS s (refused $REFUSED, $CPU s CPU), received $GOT ($BYTES bytes, $REORDERED reordered)"
}

# Paced: 20 kpps for 0.5 s is at most 10001 datagrams; a stalled machine sends fewer.
blast paced 127.0.0.1 9101 -r 20 -t 0.5 -l 64
[ "$SENT" -le 10001 ] || fail "paced: $SENT datagrams is more than 20 kpps x 0.5 s"
[ "$SENT" -ge 2500 ] || fail "paced: only $SENT datagrams in 0.5 s at 20 kpps"
[ "$GOT" = "$SENT" ] || fail "paced: $SENT sent, $GOT received over loopback"
[ "$BYTES" = $((SENT * 64)) ] || fail "paced: $BYTES bytes for $GOT datagrams of 64"
[ "$REORDERED" = 0 ] || fail "paced: $REORDERED reordered over loopback"

# Batches of 8 at 1400 bytes over IPv6: lengths and counts still exact.
blast v6 ::1 9102 -r 5 -t 0.4 -l 1400 -b 8
[ "$GOT" = "$SENT" ] && [ "$BYTES" = $((SENT * 1400)) ] ||
	fail "v6: $SENT sent, $GOT received, $BYTES bytes (1400 each)"

# Flooding: the sink's 4 MiB buffer may overflow, but it never counts more than was sent.
blast flood 127.0.0.1 9103 -t 0.5
[ "$GOT" -gt 0 ] && [ "$GOT" -le "$SENT" ] || fail "flood: $SENT sent, $GOT received"
[ "$SENT" -gt 10001 ] || fail "flood: $SENT datagrams in 0.5 s is no more than the paced run"

# Bad input: exit 2, and the message names what is wrong.
expect_usage() { # WHAT ARGS...
	local what=$1 rc=0
	shift
	"$UDPBLAST" "$@" >/dev/null 2>"$WORK/err" || rc=$?
	[ $rc = 2 ] || fail "udpblast $*: exit $rc, not 2"
	grep -q "$what" "$WORK/err" || fail "udpblast $*: '$(cat "$WORK/err")' does not mention $what"
}
expect_usage "send or recv" blast
expect_usage "length" send 127.0.0.1 9 -l 4
expect_usage "rate" send 127.0.0.1 9 -r fast
expect_usage "numeric" send localhost 9
expect_usage "PORT" recv
echo "udpblast: ok"
