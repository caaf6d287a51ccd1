#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/net/hsflood, the handshake flood of bench/net/hsflood-run, sends what it claims:
# 1. mac1 checked by a third party: Python's hashlib BLAKE2s (not vwire's code, which the
#    flooder shares with vwired) finds every initiation 148 bytes, type 1, mac1 valid for the
#    key given, mac2 zero, from as many source ports as asked.
# 2. vwired agrees: a 2 s paced flood with its public key raises the counters of initiations
#    that passed mac1 (rx_handshake_decrypt: the random static does not open; or a cookie reply
#    when under load) and never rx_bad_mac1; a 2 s full flood makes vwired answer with cookie
#    replies, which the flooder counts (-c).
# 3. The same flood with another key raises rx_bad_mac1 and nothing past it.
# 4. Bad arguments: exit 2 and a message naming the argument.
. "$(dirname "$0")/lib.sh"
need_cmd wg jq python3
[ "$VWIRE_TEST_IMPL" = vwired ] || skip "vwired's drop counters are what this test reads"
need_vwired
HSFLOOD=$VWIRE_BUILD/bench/net/hsflood
[ -x "$HSFLOOD" ] || fail "no $HSFLOOD (meson compile)"

NS_B=$(netns_add b)
NS_C=$(netns_add c)
underlay "$NS_C" "uc$TAG" "$NS_B" "ub$TAG" 73
keygen kb
keygen kpeer
keygen kother
PORT=51873
peer_section kpeer 10.73.0.9/32 >"$WORK/b.peers"
NB=b$TAG
wg_node vwired "$NS_B" "$NB" kb $PORT 10.73.0.2 fd00:73::2 "$WORK/b.peers"

# 1. Every datagram checked with hashlib's BLAKE2s, in B on a port vwired does not use.
cat >"$WORK/mac1check.py" <<'EOF'
import base64, hashlib, socket, sys
pub = base64.b64decode(sys.argv[1])
key = hashlib.blake2s(b"mac1----" + pub).digest()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("0.0.0.0", int(sys.argv[2])))
print("listening", flush=True)
s.settimeout(2)
good = bad = 0
ports = set()
try:
    while True:
        m, src = s.recvfrom(2048)
        ports.add(src[1])
        ok = (len(m) == 148 and m[:4] == b"\x01\0\0\0" and m[132:] == bytes(16)
              and hashlib.blake2s(m[:116], key=key, digest_size=16).digest() == m[116:132])
        good += ok
        bad += not ok
except socket.timeout:
    pass
print("checked", good, bad, len(ports))
EOF
bg mac1check.log in_ns "$NS_B" python3 "$WORK/mac1check.py" "$(key_pub kb)" 40073
CHECK=$LAST_PID
wait_for 10 grep -q listening "$WORK/mac1check.log" || fail "mac1 checker did not start"
read -r _ sent _ <<<"$(in_ns "$NS_C" "$HSFLOOD" "$UL4_B" 40073 -k "$(key_pub kb)" -t 0.5 -r 2000 -n 50)"
wait "$CHECK" || fail "mac1 checker failed: $(cat "$WORK/mac1check.log")"
read -r _ good bad ports < <(grep '^checked' "$WORK/mac1check.log")
echo "hashlib: $good of $sent initiations with a valid mac1, $bad bad, from $ports source ports"
[ "$bad" = 0 ] || fail "$bad initiations without a valid mac1 (hashlib's BLAKE2s)"
[ "$good" = "$sent" ] && [ "$sent" -gt 100 ] || fail "sent $sent, $good arrived checked"
[ "$ports" = 50 ] || fail "initiations from $ports source ports, asked for 50"

# drops: B's drop counters as "name value" lines, once they stop moving (vwired may still be
# working through the backlog of a flood).
drops() {
	local a b
	for _ in $(seq 50); do
		a=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$NB" --json | jq -r '.drops | to_entries[] | "\(.key) \(.value)"')
		sleep 0.2
		b=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$NB" --json | jq -r '.drops | to_entries[] | "\(.key) \(.value)"')
		[ "$a" != "$b" ] || break
	done
	echo "$b"
}
# delta NAME: how much counter NAME grew between $WORK/before and $WORK/after.
delta() {
	awk -v k="$1" 'FNR == NR { if ($1 == k) v0 = $2; next } $1 == k { v1 = $2 } END { print v1 - v0 }' \
		"$WORK/before" "$WORK/after"
}
# flood NAME KEYNAME HSFLOOD_ARGS...: a flood of B with KEYNAME's public key; sets SENT, COOKIES,
# and PASSED (initiations that got past mac1: decrypt or DH failures, cookie replies, cookie
# replies held back by the source's cookie rate, rate limited), BADMAC, DECRYPT, COOKIE_SENT,
# COOKIE_LIMITED from B's counters.
flood() {
	local name=$1 key=$2 out
	shift 2
	drops >"$WORK/before"
	out=$(in_ns "$NS_C" "$HSFLOOD" "$UL4_B" $PORT -k "$(key_pub "$key")" -v "$@" 2>"$WORK/$name.err") ||
		fail "$name: hsflood failed: $(cat "$WORK/$name.err")"
	read -r _ SENT _ _ _ COOKIES _ <<<"$out"
	drops >"$WORK/after"
	kill -0 "${NODE_PID[$NB]}" 2>/dev/null || fail "$name: vwired died"
	BADMAC=$(delta rx_bad_mac1) DECRYPT=$(($(delta rx_handshake_decrypt) + $(delta rx_handshake_dh)))
	COOKIE_SENT=$(delta rx_cookie_sent) COOKIE_LIMITED=$(delta rx_cookie_ratelimited)
	PASSED=$((DECRYPT + COOKIE_SENT + COOKIE_LIMITED + $(delta rx_ratelimited)))
	echo "$name: $(cat "$WORK/$name.err")"
	echo "  vwired: $PASSED past mac1 ($DECRYPT failed to decrypt, $COOKIE_SENT answered with a cookie, $COOKIE_LIMITED over the source's cookie rate), $BADMAC bad mac1"
}

# 2. Paced: 1000/s for 2 s from 1000 ports. vwired keeps up at this rate, so nearly all arrive.
flood paced kb -t 2 -r 1000 -n 1000
[ "$BADMAC" = 0 ] || fail "paced: vwired counted $BADMAC initiations with a bad mac1"
[ "$DECRYPT" -gt 0 ] || fail "paced: no initiation reached the decryption of the static key"
[ $((PASSED * 2)) -ge "$SENT" ] || fail "paced: only $PASSED of $SENT initiations passed mac1"

# Full flood: far more than vwired can take (a Diffie-Hellman each), so it is under load and
# answers with cookie replies, which come back to the flooder's ports.
flood full kb -t 2 -n 1000 -c
[ "$BADMAC" = 0 ] || fail "full: vwired counted $BADMAC initiations with a bad mac1"
[ "$PASSED" -gt 0 ] || fail "full: no initiation passed mac1"
[ "$COOKIE_SENT" -gt 0 ] || fail "full: $SENT initiations in 2 s and vwired sent no cookie reply"
[ "$COOKIES" -gt 0 ] || fail "full: vwired sent $COOKIE_SENT cookie replies, the flooder got none"
# One address gets cookie replies at 20/s after a burst of 5, however fast it floods.
[ "$COOKIE_LIMITED" -gt 0 ] || fail "full: one address got a cookie reply for each of $SENT initiations"
[ "$COOKIE_SENT" -le 100 ] || fail "full: $COOKIE_SENT cookie replies to one address in 2 s"

# 3. Another key: everything stops at mac1.
flood wrongkey kother -t 2 -r 1000 -n 1000
[ "$PASSED" = 0 ] || fail "wrong key: $PASSED initiations passed mac1"
[ $((BADMAC * 2)) -ge "$SENT" ] || fail "wrong key: $SENT sent, only $BADMAC counted with a bad mac1"

# 4. Bad input: exit 2, and the message names what is wrong.
expect_usage() { # WHAT ARGS...
	local what=$1 rc=0
	shift
	"$HSFLOOD" "$@" >/dev/null 2>"$WORK/err" || rc=$?
	[ $rc = 2 ] || fail "hsflood $*: exit $rc, not 2"
	grep -q -- "$what" "$WORK/err" || fail "hsflood $*: '$(cat "$WORK/err")' does not mention $what"
}
expect_usage "ADDR and PORT" -k "$(key_pub kb)"
expect_usage "-k PUBKEY" 127.0.0.1 9
expect_usage "public key (-k)" 127.0.0.1 9 -k notakey
expect_usage "ports (-n)" 127.0.0.1 9 -k "$(key_pub kb)" -n 0
expect_usage "rate (-r)" 127.0.0.1 9 -k "$(key_pub kb)" -r fast
expect_usage "numeric" localhost 9 -k "$(key_pub kb)"
stop_node "$NB"
echo "hsflood: PASS"
