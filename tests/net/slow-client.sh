#!/bin/bash
# SPDX-License-Identifier: MIT
# Slow local clients must not stall worker 0 (timers, STP hellos, the control sockets).
#
# Two vwired hosts A and B, one wire between their bridges, STP with hello 1, forward
# delay 4, max age 6; A has the lower priority and is the root, so B's tree depends on
# A's hellos arriving. Once the tree has converged:
#   1. a client on A's ctl socket and one on its UAPI socket each write a byte every
#      0.9 s for 20 s (reconnecting when A closes them), longer than max age: B must see
#      no topology change, A stays its root, its wire port keeps forwarding, A keeps
#      sending hellos, and `wg show` and `vwirectl show` on A answer within 1 s;
#   2. with 3000 more peers (`wg addconf`), clients ask A for large answers (`show`,
#      `get=1`) and never read them, for longer than the answer timeout: B's tree and
#      A's hellos as above, small requests on the same two sockets answered within 1 s,
#      `wg show` and `vwirectl show` (now large) still answered;
#   3. more idle clients than a socket's slots on A's ctl socket: the extra ones are
#      refused at once, small requests on the UAPI socket still answered within 1 s.
# A's `vwirectl show --json` "control" counters (and the text show) count the clients
# refused and timed out.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
need_cmd jq python3 wg
[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"
[ -x "$VWIRECTL" ] || skip "vwirectl not built"

HELLO=1 FWD=4 MAXAGE=6
SLOW_SECONDS=20
NAME_A=sa$TAG NAME_B=sb$TAG BR_A=ba$TAG BR_B=bb$TAG
CTL_A=$RUN_DIR/vwire/$NAME_A.ctl UAPI_A=$RUN_DIR/wireguard/$NAME_A.sock
EXTRA_PEERS=3000

NS_A=$(netns_add a)
NS_B=$(netns_add b)
NETNS_LIST+=("$NS_A" "$NS_B")
underlay "$NS_A" ula "$NS_B" ulb 61
keygen a
keygen b

# host_conf SELF OTHER N PRIORITY TUNNEL_SELF TUNNEL_OTHER ENDPOINT_OTHER BRIDGE
host_conf() {
	cat <<-CONF
	[Interface]
	Name = $1
	PrivateKey = $(key_priv "$2")
	ListenPort = 51820
	Address = $5/24
	MTU = 1420
	[Peer]
	PublicKey = $(key_pub "$3")
	AllowedIPs = $6/32
	Endpoint = $7:51820
	[Bridge]
	Name = $8
	STP = on
	Priority = $4
	HelloTime = $HELLO
	ForwardDelay = $FWD
	MaxAge = $MAXAGE
	[Wire]
	Name = w$TAG
	Remote = $6
	VNI = 7
	CONF
}
host_conf "$NAME_A" a b 4096 10.61.0.1 10.61.0.2 "$UL4_B" "$BR_A" >"$WORK/$NAME_A.conf"
host_conf "$NAME_B" b a 32768 10.61.0.2 10.61.0.1 "$UL4_A" "$BR_B" >"$WORK/$NAME_B.conf"
# Peers that make A's answers large, added after the first part (no endpoint: they
# never send a packet).
python3 - "$EXTRA_PEERS" >"$WORK/extra-peers.conf" <<'PY'
import base64, os, sys
for i in range(int(sys.argv[1])):
    print("[Peer]")
    print("PublicKey = " + base64.b64encode(os.urandom(32)).decode())
    print("AllowedIPs = 10.%d.%d.%d/32, fd99::%x/128" % (100 + i // 65536, i // 256 % 256, i % 256, i))
PY
start_vwired "$NS_A" "$WORK/$NAME_A.conf" "$NAME_A"
start_vwired "$NS_B" "$WORK/$NAME_B.conf" "$NAME_B"

stp_b() { "$VWIRECTL" --run-dir "$RUN_DIR" showstp "$BR_B" --json; }
stp_a() { "$VWIRECTL" --run-dir "$RUN_DIR" showstp "$BR_A" --json; }
show_a() { "$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME_A" --json; }

# B's view: root, its root port, every port's state and the topology change count.
tree_b() { stp_b | jq -r '[.designated_root, .root_port, ([.ports[] | .name + "=" + .state] | join(","))] | join(" ")'; }
tc_b() { stp_b | jq -r .topology_change_count; }
converged() {
	local a b
	a=$(stp_a) && b=$(stp_b) || return 1
	jq -e '.is_root and ([.ports[] | select(.name | startswith("w")) | .state] == ["forwarding"])' <<<"$a" >/dev/null &&
		jq -e '(.is_root | not) and ([.ports[] | select(.name | startswith("w")) | .state] == ["forwarding"])' <<<"$b" >/dev/null
}
hellos_a() { show_a | jq '[.wires[].tx_bpdu] | add'; }
control_a() { show_a | jq -r '"\(.control.clients_refused) \(.control.clients_timed_out)"'; }

wait_for $((3 * (MAXAGE + 2 * FWD) + 10)) converged ||
	fail "the tree did not converge: A $(stp_a | jq -c '[.is_root, [.ports[] | .state]]' 2>&1), B $(tree_b 2>&1)"
TREE0=$(tree_b)
TC0=$(tc_b)
echo "converged: B sees $TREE0, topology changes so far $TC0"
[ "$(jq -r .designated_root <<<"$(stp_b)")" = "$(jq -r .bridge_id <<<"$(stp_a)")" ] ||
	fail "B's root is not A"

# prompt LABEL CMD...: CMD succeeds within 1 s (hard limit 5 s), quietly.
prompt() {
	local label=$1 t0 t1 ms
	shift
	t0=$(date +%s%N)
	timeout 5 "$@" >"$WORK/prompt.out" 2>&1 || fail "$label failed or took over 5 s: $(head -c 300 "$WORK/prompt.out")"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -lt 1000 ] || fail "$label took $ms ms while slow clients were connected"
	PROMPT_MAX=$((ms > PROMPT_MAX ? ms : PROMPT_MAX))
}

# small_requests [CTL]: a small request on each of A's two sockets (the ones the slow
# clients hold; CTL "-" leaves the ctl socket out), each answered within 1 s (timed
# from connecting to the whole answer).
small_requests() {
	local ms
	ms=$(python3 "$WORK/clients.py" probe "${1:-$CTL_A}" "$UAPI_A") || fail "small requests on A: $ms"
	[ "$ms" -lt 1000 ] || fail "a small request on A took $ms ms while slow clients were connected"
	PROMPT_MAX=$((ms > PROMPT_MAX ? ms : PROMPT_MAX))
}

# answered LABEL CMD...: CMD succeeds within 5 s (for answers too large to promise 1 s).
answered() {
	local label=$1
	shift
	timeout 5 "$@" >"$WORK/answered.out" 2>&1 || fail "$label failed or took over 5 s: $(head -c 300 "$WORK/answered.out")"
}

# watch_for MODE SECONDS PID...: every half second, until SECONDS are over and the PIDs
# have exited: A answers (MODE tools: `wg show` and `vwirectl show` within 1 s; small:
# small_requests, and the tools within 5 s) and B's tree is unchanged.
watch_for() {
	local mode=$1 end=$((SECONDS + $2)) tree tc
	shift 2
	PROMPT_MAX=0
	while [ $SECONDS -lt "$end" ] || kill -0 "$@" 2>/dev/null; do
		[ $SECONDS -lt $((end + 30)) ] || fail "the clients ran 30 s past their time"
		if [ "$mode" = tools ]; then
			prompt "wg show $NAME_A" wg show "$NAME_A" dump
			prompt "vwirectl show $NAME_A" "$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME_A"
		else
			small_requests
			answered "wg show $NAME_A" wg show "$NAME_A" dump
			answered "vwirectl show $NAME_A" "$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME_A"
		fi
		tree=$(tree_b) tc=$(tc_b)
		[ "$tree" = "$TREE0" ] || fail "B's tree changed: $tree (was $TREE0)"
		[ "$tc" = "$TC0" ] || fail "B saw a topology change: count $tc (was $TC0)"
		sleep 0.5
	done
}

cat >"$WORK/clients.py" <<'PY'
import socket, sys, time

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def slow(path, first, seconds):
    """A byte every 0.9 s, never a complete request; a new connection when cut."""
    end = time.monotonic() + seconds
    s, sent, cuts, i = connect(path), 0, 0, 0
    while time.monotonic() < end:
        b = first[i:i + 1] if i < len(first) else b"x"
        try:
            s.send(b)
            sent += 1
            i += 1
        except OSError:
            cuts += 1
            s.close()
            s, i = connect(path), 0
        time.sleep(0.9)
    s.close()
    print("slow %s: %d bytes sent, cut %d times" % (path, sent, cuts), flush=True)

def deaf(paths_requests, seconds):
    """Requests whose large answers are never read, held for seconds, then: cut?"""
    socks = []
    for path, req in paths_requests:
        s = connect(path)
        s.sendall(req)
        socks.append(s)
    time.sleep(seconds)
    cut = 0
    for s in socks:
        s.settimeout(5)
        try:
            while s.recv(1 << 20):
                pass
            cut += 1  # EOF: the daemon closed it
        except ConnectionResetError:
            cut += 1
        except OSError:
            pass
        s.close()
    print("deaf: %d of %d closed by the daemon" % (cut, len(socks)), flush=True)
    sys.exit(0 if cut == len(socks) else 1)

def idle(path, n, seconds):
    """n idle connections at once; those the daemon closes at once were refused."""
    socks = [connect(path) for _ in range(n)]
    time.sleep(0.5)
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
    print("idle: %d of %d refused at once" % (refused, n), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()

def probe(ctl, uapi):
    """A small request on each socket; prints the slower one's ms (connect to answer)."""
    worst = 0
    for path, req, done in ((ctl, b"showstp\n", None), (uapi, b"set=1\n\n", b"errno=0\n\n")):
        if path == "-":
            continue
        t0 = time.monotonic()
        s = connect(path)
        s.settimeout(5)
        s.sendall(req)
        buf = b""
        while not (done and buf == done):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        if (done and buf != done) or (not done and b"bridge id" not in buf):
            print("%s answered %r" % (path, buf[:200]))
            sys.exit(1)
        worst = max(worst, int((time.monotonic() - t0) * 1000))
    print(worst)

mode = sys.argv[1]
if mode == "probe":
    probe(sys.argv[2], sys.argv[3])
elif mode == "slow":
    slow(sys.argv[2], sys.argv[3].encode().decode("unicode_escape").encode(), float(sys.argv[4]))
elif mode == "deaf":
    args = sys.argv[3:]
    deaf([(args[i], args[i + 1].encode().decode("unicode_escape").encode())
          for i in range(0, len(args), 2)], float(sys.argv[2]))
elif mode == "idle":
    idle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
PY

# ---- 1: a byte every 0.9 s on both sockets, for longer than max age ----
read -r REFUSED0 TIMEDOUT0 < <(control_a)
H0=$(hellos_a)
bg slow-ctl.log python3 "$WORK/clients.py" slow "$CTL_A" "show $NAME_A" $SLOW_SECONDS
P1=$LAST_PID
bg slow-uapi.log python3 "$WORK/clients.py" slow "$UAPI_A" 'set=1\nlisten_port=51820' $SLOW_SECONDS
P2=$LAST_PID
T0=$SECONDS
watch_for tools $SLOW_SECONDS $P1 $P2
wait $P1 || fail "slow ctl client failed: $(cat "$WORK/slow-ctl.log")"
wait $P2 || fail "slow UAPI client failed: $(cat "$WORK/slow-uapi.log")"
H1=$(hellos_a)
echo "  $(cat "$WORK/slow-ctl.log")"
echo "  $(cat "$WORK/slow-uapi.log")"
# A root sends a hello every HelloTime; allow for scheduling slack.
[ $((H1 - H0)) -ge $(((SECONDS - T0) * 2 / 3)) ] ||
	fail "A sent $((H1 - H0)) BPDUs in $((SECONDS - T0)) s (hello $HELLO s)"
read -r REFUSED1 TIMEDOUT1 < <(control_a)
[ $((TIMEDOUT1 - TIMEDOUT0)) -ge 4 ] ||
	fail "slow clients connected $SLOW_SECONDS s, but only $((TIMEDOUT1 - TIMEDOUT0)) timed out"
echo "slow writers: B's tree unchanged ($TREE0), $((H1 - H0)) hellos from A in $((SECONDS - T0)) s," \
	"wg show and vwirectl show on A within ${PROMPT_MAX} ms, $((TIMEDOUT1 - TIMEDOUT0)) clients timed out"

# ---- 2: large answers never read ----
wg addconf "$NAME_A" "$WORK/extra-peers.conf" || fail "wg addconf of $EXTRA_PEERS peers failed"
[ "$(wg show "$NAME_A" peers | wc -l)" -eq $((EXTRA_PEERS + 1)) ] || fail "A does not have $((EXTRA_PEERS + 1)) peers"
size_ctl=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME_A" | wc -c)
size_uapi=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.sendall(b"get=1\n\n")
buf = b""
while not buf.endswith(b"errno=0\n\n"):
    d = s.recv(1 << 20)
    if not d: break
    buf += d
print(len(buf))' "$UAPI_A")
wmem=$(in_ns "$NS_A" cat /proc/sys/net/core/wmem_default 2>/dev/null || cat /proc/sys/net/core/wmem_default)
[ "$size_ctl" -gt $((2 * wmem)) ] && [ "$size_uapi" -gt $((2 * wmem)) ] ||
	fail "answers too small to fill a socket buffer ($wmem): show $size_ctl B, get $size_uapi B"
H0=$(hellos_a)
bg deaf.log python3 "$WORK/clients.py" deaf 12 \
	"$CTL_A" "show $NAME_A\n" "$UAPI_A" 'get=1\n\n' \
	"$CTL_A" "show $NAME_A --json\n" "$UAPI_A" 'get=1\n\n'
P3=$LAST_PID
T0=$SECONDS
watch_for small 12 $P3
wait $P3 || fail "clients that never read were not closed: $(cat "$WORK/deaf.log")"
H1=$(hellos_a)
[ $((H1 - H0)) -ge $(((SECONDS - T0) * 2 / 3)) ] ||
	fail "A sent $((H1 - H0)) BPDUs in $((SECONDS - T0)) s (hello $HELLO s)"
read -r REFUSED2 TIMEDOUT2 < <(control_a)
[ $((TIMEDOUT2 - TIMEDOUT1)) -ge 4 ] || fail "4 clients never read, $((TIMEDOUT2 - TIMEDOUT1)) timed out"
echo "deaf readers: answers of $size_ctl B (show) and $size_uapi B (get) left unread; $(cat "$WORK/deaf.log")," \
	"small requests on both sockets answered within ${PROMPT_MAX} ms, wg show and vwirectl show answered, B's tree unchanged"

# ---- 3: more clients than slots ----
bg idle.log python3 "$WORK/clients.py" idle "$CTL_A" 70 2
P4=$LAST_PID
wait_for 5 grep -q refused "$WORK/idle.log" || fail "idle clients: $(cat "$WORK/idle.log")"
PROMPT_MAX=0
small_requests -
wait $P4 || true
read -r REFUSED3 TIMEDOUT3 < <(control_a)
refused_now=$(grep -o '[0-9]* of' "$WORK/idle.log" | grep -o '[0-9]*')
[ $((REFUSED3 - REFUSED2)) -eq 6 ] && [ "$refused_now" -eq 6 ] ||
	fail "70 clients on a 64-slot socket: $((REFUSED3 - REFUSED2)) counted refused, $(cat "$WORK/idle.log")"
# The text show carries the same counters.
text=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME_A")
grep -qx "  control clients: $REFUSED3 refused, [0-9]* timed out" <<<"$text" ||
	fail "vwirectl show lacks the control clients line: $(grep control <<<"$text")"
echo "64 slots: $(cat "$WORK/idle.log"), counted; small UAPI request answered in $PROMPT_MAX ms; counters: $REFUSED3 refused, $TIMEDOUT3 timed out"

[ "$(tree_b)" = "$TREE0" ] && [ "$(tc_b)" = "$TC0" ] || fail "B's tree changed at the end: $(tree_b), count $(tc_b)"
stop_node "$NAME_A"
stop_node "$NAME_B"
echo "slow-client: PASS"
