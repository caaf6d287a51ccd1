#!/bin/bash
# The WAN relay the tests emulate distance with (tests/tools/wanrelay; this kernel has
# no netem): three vwired hosts a, b, c, each on its own cable to a "wan" namespace,
# whose WireGuard Endpoints are the relay's faces. Ping RTTs through the tunnels match
# each link's configured RTT, jitter spreads them, plain datagrams (wanseq.py) take the
# one-way delay and keep their order under jitter unless reordering is allowed, a 20 %
# loss on one direction loses about that share of 200 pings, cutting a link, a direction
# or a host stops the pings it should and only those, healing brings them back, errors
# name what is wrong, and the relay's stats agree with what ping saw.
. "$(dirname "$0")/lib.sh"
need_vwired
need_cmd wg
RELAY="$VWIRE_BUILD/tests/tools/wanrelay"
[ -x "$RELAY" ] || skip "wanrelay not built ($RELAY)"

RELAY_IP=10.99.0.1
WAN=$(netns_add wan)
ip -n "$WAN" addr add "$RELAY_IP/32" dev lo
# The relay is the only way between the hosts.
in_ns "$WAN" sysctl -qw net.ipv4.ip_forward=0
declare -A NS ADDR NAME
n=0
for h in a b c; do
	n=$((n + 1))
	NS[$h]=$(netns_add "$h")
	veth_pair "$WAN" "to$h" "10.99.$n.1/24" "${NS[$h]}" eth0 "10.99.$n.2/24"
	ip -n "${NS[$h]}" route add "$RELAY_IP/32" via "10.99.$n.1"
	ADDR[$h]=10.0.0.$n
	NAME[$h]=w$h$TAG
	keygen "$h"
done

# a-b is the long link; d is declared but linked to nobody; p and q are plain UDP
# sockets in a's and c's namespaces, for the datagram-level checks.
bg wan.log in_ns "$WAN" "$RELAY" --listen $RELAY_IP --base-port 40000 --seed 7 \
	--ctl "$WORK/wan.sock" --host a=10.99.1.2:51820 --host b=10.99.2.2:51820 \
	--host c=10.99.3.2:51820 --host d --host p=10.99.1.2:7000 --host q=10.99.3.2:7001 \
	--link a,b,rtt=40 --link a,c,rtt=10 --link b,c,delay=5 --link p,q,delay=5
RELAY_PID=$LAST_PID
wait_alive 5 "$RELAY_PID" grep -q '^ready$' "$WORK/wan.log" ||
	fail "wanrelay did not start: $(cat "$WORK/wan.log")"

wan() { "$RELAY" ctl "$WORK/wan.sock" "$@"; }
# face A B: the relay's port that is A's Endpoint for B.
face() { awk -v f="$1->$2" '$1 == "face" && $2 == f { print $4 }' "$WORK/wan.log"; }
# stat DIR KEY: one counter of one direction (A>B) from the relay's stats.
stat() {
	wan stats "$1" | awk -v d="$1" -v k="$2" '$1 == "dir" && $2 == d {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}
[ "$(face a b)" = 40000 ] && [ "$(face b a)" = 40001 ] && [ "$(face c b)" = 40005 ] ||
	fail "face ports are not base-port + 2i (+1): $(grep '^face' "$WORK/wan.log")"

for h in a b c; do
	: >"$WORK/$h.peers"
	for p in a b c; do
		[ "$p" != "$h" ] || continue
		peer_section "$p" "${ADDR[$p]}/32" "$RELAY_IP:$(face "$h" "$p")" >>"$WORK/$h.peers"
	done
	n=${ADDR[$h]##*.}
	wg_node vwired "${NS[$h]}" "${NAME[$h]}" "$h" 51820 "${ADDR[$h]}" "fd00:99::$n" "$WORK/$h.peers"
done

ping_pair() { # ping_pair A B: A's tunnel reaches B's
	ping_ok "${NS[$1]}" "${ADDR[$2]}"
}
for pair in "a b" "a c" "b c"; do
	set -- $pair
	wait_for 15 ping_pair "$1" "$2" || fail "no ping from $1 to $2 through the relay"
done
for pair in "a b" "b a" "a c"; do
	set -- $pair
	ep=$(peer_field "${NAME[$1]}" "$(key_pub "$2")" endpoint)
	[ "$ep" = "$RELAY_IP:$(face "$1" "$2")" ] || fail "$1's endpoint for $2 is $ep, not its face"
done
echo "  three hosts talk through the relay's faces"

# rtts A B COUNT INTERVAL: the RTTs (ms) of the answered pings from A to B, sorted.
rtts() {
	in_ns "${NS[$1]}" ping -n -c "$3" -i "$4" -W 2 "${ADDR[$2]}" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n || true
}
# check_rtt A B LO HI: 20 pings; the fastest takes at least LO ms, the median LO to HI.
check_rtt() {
	local out n min med max
	out=$(rtts "$1" "$2" 20 0.05)
	n=$(grep -c . <<<"$out" || true)
	[ "$n" -ge 18 ] || fail "$1->$2: only $n of 20 pings answered"
	read -r min med max < <(awk '{ a[NR] = $1 } END { print a[1], a[int((NR + 1) / 2)], a[NR] }' <<<"$out")
	awk -v mn="$min" -v m="$med" -v lo="$3" -v hi="$4" 'BEGIN { exit !(mn >= lo && m >= lo && m <= hi) }' ||
		fail "$1->$2: RTT min $min, median $med, max $max ms; configured $3 (median wanted in $3-$4)"
	echo "  rtt $1->$2: configured $3 ms, measured min $min median $med max $max ms ($n pings)"
}
check_rtt a b 40 46
check_rtt a c 10 16
check_rtt b c 10 16

# Jitter of +-3 ms each way on a-c: RTTs from 4 to 16 ms, spread out (the 90th
# percentile, not the maximum, so a busy box's stall does not count).
wan set a c jitter=3
out=$(rtts a c 40 0.05)
read -r min p90 < <(awk '{ a[NR] = $1 } END { print a[1], a[int(NR * 0.9)] }' <<<"$out")
awk -v mn="$min" -v mx="$p90" 'BEGIN { exit !(mn >= 4 && mx <= 20 && mx - mn >= 1) }' ||
	fail "a->c with 10 ms +-3+-3 of jitter: RTTs from $min, 90th percentile $p90 ms"
echo "  jitter a-c +-3 ms each way: RTTs from $min ms, 90th percentile $p90 ms"
wan set a c jitter=0

# Datagrams straight through the relay, p to q (5 ms one way): never early, on time,
# and in order under jitter unless reordering is allowed.
SEQ_TOOL="$(dirname "$0")/wanseq.py"
seq_run() { # seq_run LABEL COUNT GAP_MS: sets SEQ, the receiver's summary
	bg "seq-$1.log" in_ns "${NS[c]}" python3 "$SEQ_TOOL" recv 10.99.3.2 7001 "$2"
	local rpid=$LAST_PID
	wait_for 5 grep -q ready "$WORK/seq-$1.log" || fail "wanseq receiver did not start"
	in_ns "${NS[a]}" python3 "$SEQ_TOOL" send 10.99.1.2 7000 $RELAY_IP "$(face p q)" "$2" "$3"
	wait "$rpid" || true
	SEQ=$(tail -n 1 "$WORK/seq-$1.log")
	[ "$(seq_field received)" = "$2" ] || fail "p->q $1: $SEQ, of $2 sent"
}
seq_field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$SEQ"; }
seq_run plain 100 2
awk -v mn="$(seq_field min_ms)" -v m="$(seq_field median_ms)" 'BEGIN { exit !(mn >= 5 && m <= 6) }' ||
	fail "p->q with 5 ms one way: $SEQ"
echo "  one way p->q, 5 ms: $SEQ"
wan set p q jitter=3
seq_run fifo 400 0.5
[ "$(seq_field reordered)" = 0 ] || fail "jitter reordered datagrams: $SEQ"
awk -v mn="$(seq_field min_ms)" 'BEGIN { exit !(mn >= 2) }' || fail "p->q with 5 +-3 ms: $SEQ"
echo "  5 +-3 ms, 0.5 ms apart: $SEQ"
wan set p q reorder=on
seq_run reorder 400 0.5
[ "$(seq_field reordered)" -gt 0 ] || fail "reorder=on, yet nothing was reordered: $SEQ"
echo "  the same with reorder=on: $SEQ"

# 20 % loss on a's packets to b only: about 40 of 200 pings lost (sd 5.7), and the
# relay counts exactly the requests it dropped.
lost0=$(stat 'a>b' lost)
back0=$(stat 'b>a' lost)
wan set 'a>b' loss=20
got=$(in_ns "${NS[a]}" ping -n -q -c 200 -i 0.01 -W 1 "${ADDR[b]}" 2>/dev/null |
	sed -n 's/.* \([0-9]*\) received.*/\1/p' || true)
wan set 'a>b' loss=0
lost=$((200 - ${got:-0}))
rlost=$(($(stat 'a>b' lost) - lost0))
[ "$lost" -ge 16 ] && [ "$lost" -le 68 ] || fail "20 % loss on a>b lost $lost of 200 pings (want 16-68)"
[ $((rlost - lost)) -le 2 ] && [ $((lost - rlost)) -le 2 ] ||
	fail "ping lost $lost, the relay says it dropped $rlost on a>b"
[ "$(stat 'b>a' lost)" = "$back0" ] || fail "loss set on a>b dropped on b>a"
echo "  loss 20 % on a>b: $lost of 200 pings lost, the relay dropped $rlost"

# Cut one link; the others carry on; heal.
cut0=$(stat 'a>b' cut)
wan cut a b
ping_pair a b && fail "ping a->b passed a cut link"
ping_pair a c || fail "cutting a-b cut a-c"
[ "$(stat 'a>b' cut)" -gt "$cut0" ] || fail "the relay counted no cut packets on a>b"
wan stats a b | grep -q '^dir a>b state=cut' || fail "stats do not show a-b cut: $(wan stats a b)"
wan heal a b
wait_for 10 ping_pair a b || fail "ping a->b did not come back after heal"
echo "  cut a b: a->b stopped, a->c went on; heal brought a->b back"

# One direction: b's answers to a go nowhere.
wan cut 'b>a'
ping_pair a b && fail "ping a->b passed with b>a cut"
[ "$(wan stats 'a>b' | awk '$2 == "a>b" { print $3 }')" = state=up ] || fail "cut b>a cut a>b too"
wan heal 'b>a'
wait_for 10 ping_pair a b || fail "ping a->b did not come back after heal b>a"
echo "  cut b>a: a's pings unanswered; heal brought them back"

# A host dies: all of a's links, none of the others.
wan cut a
ping_pair a b && fail "ping a->b passed with a cut"
ping_pair a c && fail "ping a->c passed with a cut"
ping_pair b c || fail "cutting host a cut b-c"
[ "$(wan stats a | grep -c 'state=down')" = 4 ] || fail "stats a: $(wan stats a)"
wan heal a
wait_for 10 ping_pair a b || fail "ping a->b did not come back after heal a"
wait_for 10 ping_pair a c || fail "ping a->c did not come back after heal a"
echo "  cut a: a isolated, b-c unharmed; heal a brought a back"

# Errors say what is wrong.
expect_error() { # expect_error TEXT COMMAND...
	local want=$1 out
	shift
	out=$(wan "$@" 2>&1) && fail "wanrelay ctl $*: succeeded: $out"
	grep -qF -- "$want" <<<"$out" || fail "wanrelay ctl $*: '$out', wanted '$want'"
}
expect_error "unknown host 'x'" cut x b
expect_error "no link between 'a' and 'd'" cut a d
expect_error "delay is milliseconds" set a b delay=abc
expect_error "unknown command 'frob'" frob
kill -0 "$RELAY_PID" || fail "the relay died"
echo "  errors: unknown host, no link, bad value, unknown command"

# The relay's books balance and nothing was dropped but on purpose.
wan stats >"$WORK/stats.txt"
awk '$1 == "dir" {
	for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["in"] != v["out"] + v["lost"] + v["cut"] + v["qdrop"] + v["noaddr"] + v["oversize"] + v["err"] + v["queue"])
		{ print $2 ": in " v["in"] " is not the sum of the rest"; bad = 1 }
	if (v["qdrop"] + v["oversize"] + v["err"] != 0) { print $2 ": unexpected drops"; bad = 1 }
	if ($2 == "a>b" && v["out"] < 150) { print "a>b carried only " v["out"]; bad = 1 }
} END { exit bad }' "$WORK/stats.txt" || fail "stats: $(cat "$WORK/stats.txt")"
echo "  stats balance (in = out + lost + cut + queue); $(grep '^relay' "$WORK/stats.txt")"
for h in a b c; do check_drops "${NAME[$h]}"; done
