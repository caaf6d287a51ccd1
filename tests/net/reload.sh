#!/bin/bash
# vwirectl reload and SIGHUP on a running bridge of three vwired hosts: a - b - c, b the
# root. At first a and b share one wire and c stands alone. Through a continuous ping
# from a to b across that wire (100 a second), reloads on the hosts:
#  1. b and c add each other as peers and a wire between them: the new wire comes up and
#     carries a ping from b to c;
#  2. b's bridge priority and timers change (it stays root), c's priority too (by SIGHUP);
#  3. b's file is broken at a known line: refused with FILE:LINE, by vwirectl (exit
#     status, message) and in the log, and b runs on as it was; a SIGHUP with the bad
#     file likewise;
#  4. c's AllowedIPs on b grow, read from a file vwirectl opens and passes to vwired;
#  4b. `wg set` removes c from b's peers: b's wire to c goes down, and a reload restores it;
#  5. the b-c wire goes again (SIGHUP on c, vwirectl reload on b): gone from vwirectl show.
# Then: not one ping lost between a and b, the a-b peers' latest handshakes as before
# (no new handshake) and their transfer counters only grown.
. "$(dirname "$0")/lib.sh"
need_cmd wg python3
need_vwired

HOSTS=(a b c)
declare -A IDX=([a]=1 [b]=2 [c]=3) NS KEY PUB PID PRIO CONF
PRIO=([a]=32768 [b]=4096 [c]=32768)
HELLO=1 FWD=4 MAXAGE=6
# Peers and wires of each host; the reloads change these and rewrite the files.
declare -A LINKS=([a]="b" [b]="a" [c]="")
declare -A EXTRA_IPS=()

wan=$(netns_add wan)
ip -n "$wan" link add wan type bridge
ip -n "$wan" link set wan up
for h in "${HOSTS[@]}"; do
	NS[$h]=$(netns_add "$h")
	KEY[$h]=$("$VWIRECTL" genkey)
	PUB[$h]=$(printf '%s\n' "${KEY[$h]}" | "$VWIRECTL" pubkey)
	ip link add eth0 netns "${NS[$h]}" type veth peer name "to$h" netns "$wan"
	ip -n "$wan" link set "to$h" master wan up
	ip -n "${NS[$h]}" addr add "192.168.200.${IDX[$h]}/24" dev eth0
	ip -n "${NS[$h]}" link set eth0 up
	CONF[$h]=$WORK/$h.conf
done

# Names unique to the run: the UAPI and bridge sockets sit in /run, shared by namespaces.
ifname() { echo "wg$TAG${IDX[$1]}"; }
brname() { echo "rb$TAG${IDX[$1]}"; }
vni() { local x=${IDX[$1]} y=${IDX[$2]}; [ "$x" -lt "$y" ] && echo $((10 * x + y)) || echo $((10 * y + x)); }

config() { # the config of host $1 as LINKS and the rest say now
	local h=$1 n=${IDX[$1]} p
	cat <<-CONF
	[Interface]
	PrivateKey = ${KEY[$h]}
	ListenPort = 51820
	Name = $(ifname "$h")
	Address = 10.0.0.$n/24
	CONF
	for p in ${LINKS[$h]}; do
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.%s/32%s\nEndpoint = 192.168.200.%s:51820\n' \
			"${PUB[$p]}" "${IDX[$p]}" "${EXTRA_IPS[$h>$p]:+, ${EXTRA_IPS[$h>$p]}}" "${IDX[$p]}"
	done
	cat <<-CONF

	[Bridge]
	Name = $(brname "$h")
	Address = 10.1.0.$n/24
	Priority = ${PRIO[$h]}
	HelloTime = $HELLO
	ForwardDelay = $FWD
	MaxAge = $MAXAGE
	CONF
	for p in ${LINKS[$h]}; do
		printf '\n[Wire]\nName = to%s\nRemote = 10.0.0.%s\nVNI = %s\n' "$p" "${IDX[$p]}" "$(vni "$h" "$p")"
	done
}
write_config() { (umask 077 && config "$1" >"${CONF[$1]}"); }

for h in "${HOSTS[@]}"; do
	write_config "$h"
	start_vwired "${NS[$h]}" "${CONF[$h]}" "$(ifname "$h")"
	PID[$h]=$LAST_PID
done
LOG_B=$WORK/$(ifname b).log LOG_C=$WORK/$(ifname c).log

show_json() { "$VWIRECTL" show "$(ifname "$1")" --json; }
wire_state() { # HOST WIRE: the wire's tunnel state, or "none"
	show_json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((w["tunnel"] for w in d["wires"] if w["name"] == sys.argv[1]), "none"))' "$2"
}
wire_is() { [ "$(wire_state "$1" "$2")" = "$3" ]; }
port_state() { # HOST PORT: its STP state as showstp --json says
	"$VWIRECTL" showstp "$(brname "$1")" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((p["state"] for p in d["ports"] if p["name"] == sys.argv[1]), "none"))' "$2"
}
port_forwarding() { [ "$(port_state "$1" "$2")" = forwarding ]; }
# reload HOST: vwirectl reload, its output in $WORK/reload.out and .err; the exit status.
reload() { "$VWIRECTL" reload "$(ifname "$1")" >"$WORK/reload.out" 2>"$WORK/reload.err"; }
# hup HOST: SIGHUP, then waits for the log line it must add (reloaded or refused).
reloads_logged() { grep -cE 'reloaded|reload refused' "$1" || true; }
more_reloads() { [ "$(reloads_logged "$1")" -gt "$2" ]; }
hup() {
	local log=$WORK/$(ifname "$1").log n
	n=$(reloads_logged "$log")
	kill -HUP "${PID[$1]}"
	wait_for 10 more_reloads "$log" "$n" || fail "$1: no reload logged after SIGHUP"
	kill -0 "${PID[$1]}" || fail "$1 exited on SIGHUP"
}
# peer_line HOST PEER WHAT: one field of `wg show IF WHAT` for PEER.
peer_line() { in_ns "${NS[$1]}" wg show "$(ifname "$1")" "$3" | awk -v k="${PUB[$2]}" '$1 == k { $1 = ""; print substr($0, 2) }'; }

wait_for 30 wire_is a tob up || fail "wire a-b did not come up: $(wire_state a tob)"
wait_for 30 port_forwarding a tob || fail "a's port to b is $(port_state a tob)"
wait_for 30 port_forwarding b toa || fail "b's port to a is $(port_state b toa)"
ping_ok "${NS[a]}" 10.1.0.2 || fail "a cannot ping b over the bridge"

hs_a=$(peer_line a b latest-handshakes)
hs_b=$(peer_line b a latest-handshakes)
read -r rx_a0 tx_a0 < <(peer_line a b transfer)
[ -n "$hs_a" ] && [ "$hs_a" != 0 ] || fail "a has no handshake with b: '$hs_a'"

# The continuous ping: 100 a second across the wire that no reload touches.
COUNT=2500
bg ping.log in_ns "${NS[a]}" ping -n -i 0.01 -c $COUNT -W 1 10.1.0.2
PING_PID=$LAST_PID
sleep 1

# 1. a peer and a wire added, on b and c.
LINKS[b]="a c" LINKS[c]="b"
write_config b
write_config c
reload b || fail "reload b (peer and wire added) failed: $(cat "$WORK/reload.err")"
grep -q "peers: 1 added, 0 removed, 0 changed; wires: 1 added, 0 removed, 0 changed" "$WORK/reload.out" ||
	fail "reload b said: $(cat "$WORK/reload.out")"
grep -q "reloaded .*peers: 1 added, 0 removed, 0 changed; wires: 1 added" "$LOG_B" ||
	fail "b's log does not say what the reload changed"
reload c || fail "reload c failed: $(cat "$WORK/reload.err")"
wait_for 30 wire_is b toc up || fail "new wire b-c: $(wire_state b toc)"
wait_for 30 wire_is c tob up || fail "new wire c-b: $(wire_state c tob)"
wait_for 30 ping_ok "${NS[b]}" 10.1.0.3 || fail "b cannot ping c across the new wire"
wait_for 30 ping_ok "${NS[a]}" 10.1.0.3 || fail "a cannot ping c through b"
echo "1. peer and wire added: b-c up, pings cross it"

# 2. bridge parameters: b (the root) and c.
PRIO[b]=8192 HELLO=2 FWD=5 MAXAGE=8
write_config b
reload b || fail "reload b (bridge) failed: $(cat "$WORK/reload.err")"
grep -q "bridge: priority, times" "$WORK/reload.out" || fail "reload b said: $(cat "$WORK/reload.out")"
PRIO[c]=16384
write_config c
hup c
grep -q "reloaded .*bridge: priority, times" "$LOG_C" || fail "SIGHUP on c: $(tail -n 3 "$LOG_C")"
bridge_id() { "$VWIRECTL" showstp "$(brname "$1")" | awk '$1 == "bridge" && $2 == "id" { print $3; exit }'; }
bridge_id b | grep -q "^2000\." || fail "b's bridge id does not carry priority 8192: $(bridge_id b)"
bridge_id c | grep -q "^4000\." || fail "c's bridge id does not carry priority 16384: $(bridge_id c)"
echo "2. bridge priority and times changed (c's by SIGHUP)"

# 3. a bad file: refused whole, the running state kept.
before=$(show_json b | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sorted(w["name"] for w in d["wires"]), sorted(p["public_key"] for p in d["peers"]), d["listen_port"])')
cp "${CONF[b]}" "$WORK/b.good"
{ head -n 2 "$WORK/b.good"; echo "ListenPort = not-a-port"; tail -n +4 "$WORK/b.good"; } >"${CONF[b]}"
! reload b || fail "a bad file was accepted: $(cat "$WORK/reload.out")"
grep -q "${CONF[b]}:3: \[Interface\] ListenPort" "$WORK/reload.err" ||
	fail "vwirectl reload's refusal does not name FILE:3: $(cat "$WORK/reload.err")"
grep -q "reload refused.*${CONF[b]}:3:" "$LOG_B" || fail "b's log does not have the refusal"
hup b
[ "$(grep -c "reload refused.*${CONF[b]}:3:" "$LOG_B")" -eq 2 ] || fail "SIGHUP with a bad file not refused"
# A key only a restart can change: refused too, naming it.
LINKS[b]="a c"
config b | sed 's/^Address = 10.1.0.2\/24/Address = 10.1.0.22\/24/' >"${CONF[b]}"
! reload b || fail "a changed [Bridge] Address was accepted"
grep -q "\[Bridge\] Address changes only at a restart" "$WORK/reload.err" ||
	fail "restart-only refusal: $(cat "$WORK/reload.err")"
after=$(show_json b | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sorted(w["name"] for w in d["wires"]), sorted(p["public_key"] for p in d["peers"]), d["listen_port"])')
[ "$before" = "$after" ] || fail "b changed after refused reloads: $before -> $after"
wire_is b toc up || fail "b-c went $(wire_state b toc) after refused reloads"
cp "$WORK/b.good" "${CONF[b]}"
echo "3. bad files refused with FILE:LINE, b unchanged"

# 4. AllowedIPs of a peer, from another file vwirectl opens and hands over (systemd's way).
EXTRA_IPS[b>c]=10.0.9.0/24
mkdir -m 700 "$WORK/etc"
(umask 077 && config b >"$WORK/etc/b.conf")
"$VWIRECTL" reload "$(ifname b)" "$WORK/etc/b.conf" >"$WORK/reload.out" 2>"$WORK/reload.err" ||
	fail "reload b FILE (AllowedIPs) failed: $(cat "$WORK/reload.err")"
grep -q "reloaded $WORK/etc/b.conf: " "$LOG_B" || fail "b's log does not name the file handed over"
grep -q "peers: 0 added, 0 removed, 1 changed" "$WORK/reload.out" || fail "reload b said: $(cat "$WORK/reload.out")"
peer_line b c allowed-ips | grep -q "10.0.9.0/24" || fail "c's allowed IPs on b: $(peer_line b c allowed-ips)"
wire_is b toc up || fail "b-c went $(wire_state b toc) after an AllowedIPs change"
echo "4. c's AllowedIPs on b changed"

# 4b. wg set takes c away from b behind the config's back: b's wire to c goes down (it
# held the peer: it must let go, not use it freed), and b runs on; a reload brings c back.
in_ns "${NS[b]}" wg set "$(ifname b)" peer "${PUB[c]}" remove || fail "wg set peer remove failed"
wait_for 5 wire_is b toc down || fail "b's wire to a removed peer is $(wire_state b toc)"
"$VWIRECTL" show "$(ifname b)" >/dev/null || fail "vwirectl show b failed after the peer went"
"$VWIRECTL" reload "$(ifname b)" "$WORK/etc/b.conf" >"$WORK/reload.out" 2>"$WORK/reload.err" ||
	fail "reload b after wg set remove failed: $(cat "$WORK/reload.err")"
grep -q "peers: 1 added, 0 removed, 0 changed" "$WORK/reload.out" || fail "reload b said: $(cat "$WORK/reload.out")"
wait_for 30 wire_is b toc up || fail "b-c did not come back after the reload: $(wire_state b toc)"
echo "4b. wg set removed c: b's wire went down; a reload brought it back"

# 5. the b-c wire and peers removed again: c by SIGHUP, b by vwirectl.
LINKS[b]="a" LINKS[c]=""
write_config c
hup c
grep -q "reloaded .*peers: 0 added, 1 removed, 0 changed; wires: 0 added, 1 removed" "$LOG_C" ||
	fail "SIGHUP on c: $(tail -n 3 "$LOG_C")"
write_config b
reload b || fail "reload b (wire removed) failed: $(cat "$WORK/reload.err")"
grep -q "peers: 0 added, 1 removed, 0 changed; wires: 0 added, 1 removed, 0 changed" "$WORK/reload.out" ||
	fail "reload b said: $(cat "$WORK/reload.out")"
[ "$(wire_state b toc)" = none ] || fail "the removed wire is still in vwirectl show b"
! "$VWIRECTL" show "$(ifname b)" | grep -q "wire: toc" || fail "vwirectl show b still lists toc"
[ -z "$(peer_line b c latest-handshakes)" ] || fail "c is still b's peer"
echo "5. b-c removed"

kill -0 "$PING_PID" || fail "the ping ended before the reloads did: raise COUNT"
wait "$PING_PID" || true
stats=$(grep "packets transmitted" "$WORK/ping.log") || fail "no ping summary: $(tail -n 3 "$WORK/ping.log")"
echo "ping a -> b: $stats"
sent=$(echo "$stats" | awk '{print $1}') got=$(echo "$stats" | awk '{print $4}')
[ "$sent" -eq $COUNT ] && [ "$got" -eq "$sent" ] || fail "pings lost across the unchanged wire: $stats"
[ "$(peer_line a b latest-handshakes)" = "$hs_a" ] || fail "a-b handshook again: $hs_a -> $(peer_line a b latest-handshakes)"
[ "$(peer_line b a latest-handshakes)" = "$hs_b" ] || fail "b-a handshook again"
read -r rx_a1 tx_a1 < <(peer_line a b transfer)
[ "$rx_a1" -gt "$rx_a0" ] && [ "$tx_a1" -gt "$tx_a0" ] ||
	fail "a-b transfer counters did not only grow: $rx_a0/$tx_a0 -> $rx_a1/$tx_a1"
wire_is a tob up && wire_is b toa up || fail "a-b is not up at the end"
echo "reload: OK"
