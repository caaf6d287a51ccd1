#!/bin/bash
# SPDX-License-Identifier: MIT
# The cross-platform userspace API of vwired, driven by Debian's unmodified
# `wg`: wg show (peer, endpoint, latest handshake, transfer), wg showconf
# round-tripping through wg setconf, wg set adding a peer that then works
# without a restart, changing allowed-ips and the listen port live, and
# removing a peer, after which nothing more reaches it.
# A runs vwired; B and C run wireguard-go. VWIRED_IO as in lib.sh.
. "$(dirname "$0")/lib.sh"
need_cmd wg wireguard-go jq
need_vwired

NET=73
NS_A=$(netns_add a)
NS_B=$(netns_add b)
NS_C=$(netns_add c)
# Two cables: A-C (192.168.74.0/24) and A-B.
underlay "$NS_A" "uc$TAG" "$NS_C" "uc$TAG" 74
ULC_A=$UL4_A ULC_C=$UL4_B
underlay "$NS_A" "ub$TAG" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb
keygen kc
NA="a$TAG" NB="b$TAG" NC="c$TAG"
PA=51830 PB=51831 PC=51832
T4A=10.$NET.0.1 T4B=10.$NET.0.2 T4C=10.$NET.0.3
T6A=fd00:$NET::1 T6B=fd00:$NET::2 T6C=fd00:$NET::3

echo "uapi-wg: io ${VWIRED_IO:-auto}, A=$(node_kind vwired) B=wireguard-go C=wireguard-go"
peer_section kb "$T4B/32,$T6B/128" "$UL4_B:$PB" >"$WORK/$NA.peers"
peer_section ka "$T4A/32,$T6A/128" "$UL4_A:$PA" >"$WORK/$NB.peers"
peer_section ka "$T4A/32,$T6A/128" "$ULC_A:$PA" >"$WORK/$NC.peers"
wg_node vwired "$NS_A" "$NA" ka $PA $T4A $T6A "$WORK/$NA.peers"
wg_node wggo "$NS_B" "$NB" kb $PB $T4B $T6B "$WORK/$NB.peers"
wg_node wggo "$NS_C" "$NC" kc $PC $T4C $T6C "$WORK/$NC.peers"

# --- wg show
ping_both "$NS_A" $T4A "$NS_B" $T4B "A<->B"
[ "$(wg show "$NA" public-key)" = "$(key_pub ka)" ] || fail "wg show $NA public-key: $(wg show "$NA" public-key)"
[ "$(wg show "$NA" private-key)" = "$(key_priv ka)" ] || fail "wg show $NA private-key differs from the config's"
[ "$(wg show "$NA" listen-port)" = $PA ] || fail "wg show $NA listen-port: $(wg show "$NA" listen-port)"
[ "$(wg show "$NA" peers)" = "$(key_pub kb)" ] || fail "wg show $NA peers: $(wg show "$NA" peers)"
allowed=$(wg show "$NA" allowed-ips | cut -f2)
[ "$allowed" = "$T4B/32 $T6B/128" ] || fail "wg show $NA allowed-ips: '$allowed'"
check_peer_state "$NA" kb "$UL4_B:$PB"
show=$(wg show "$NA")
for want in "interface: $NA" "public key: $(key_pub ka)" "listening port: $PA" "peer: $(key_pub kb)" \
	"endpoint: $UL4_B:$PB" "allowed ips: $T4B/32, $T6B/128" "latest handshake: " "transfer: "; do
	grep -qF -- "$want" <<<"$show" || fail "wg show $NA lacks '$want':
$show"
done
grep -qE 'transfer: [0-9.]+ [KMG]?i?B received, [0-9.]+ [KMG]?i?B sent' <<<"$show" ||
	fail "wg show $NA: transfer line unexpected: $(grep transfer <<<"$show")"
echo "  wg show $NA: keys, listening port, peer, endpoint, allowed ips, latest handshake, transfer"

# --- wg showconf -> wg setconf -> wg showconf
wg showconf "$NA" >"$WORK/show1.conf" || fail "wg showconf $NA failed"
for want in "PrivateKey = $(key_priv ka)" "ListenPort = $PA" "PublicKey = $(key_pub kb)" \
	"AllowedIPs = $T4B/32, $T6B/128" "Endpoint = $UL4_B:$PB"; do
	grep -qxF -- "$want" "$WORK/show1.conf" || fail "wg showconf $NA lacks '$want':
$(sed 's/PrivateKey = .*/PrivateKey = (hidden)/' "$WORK/show1.conf")"
done
sed 's/^Endpoint = .*/&\nPersistentKeepalive = 7/' "$WORK/show1.conf" >"$WORK/keepalive.conf"
wg setconf "$NA" "$WORK/keepalive.conf" || fail "wg setconf $NA (keepalive) failed"
[ "$(peer_field "$NA" "$(key_pub kb)" keepalive)" = 7 ] ||
	fail "after wg setconf with PersistentKeepalive = 7: $(peer_field "$NA" "$(key_pub kb)" keepalive)"
wg setconf "$NA" "$WORK/show1.conf" || fail "wg setconf $NA failed"
wg showconf "$NA" >"$WORK/show2.conf"
diff -u "$WORK/show1.conf" "$WORK/show2.conf" >"$WORK/showconf.diff" ||
	fail "wg showconf differs after wg setconf of its own output: $(cat "$WORK/showconf.diff")"
wait_for 10 ping_ok "$NS_A" $T4B || fail "A -> B after wg setconf"
wait_for 10 ping_ok "$NS_B" $T6A || fail "B -> A (IPv6) after wg setconf"
echo "  wg showconf -> wg setconf -> wg showconf: identical; keepalive set and cleared; tunnel works after"

# --- wg set: a new peer works without restart
ping_ok "$NS_A" $T4C && fail "C answers before it is a peer of A"
wg set "$NA" peer "$(key_pub kc)" allowed-ips "$T4C/32,$T6C/128" endpoint "$ULC_C:$PC" ||
	fail "wg set $NA peer C failed"
wait_for 10 ping_ok "$NS_A" $T4C || fail "peer C added with wg set: ping $T4C from A failed"
wait_for 10 ping_ok "$NS_A" $T6C || fail "peer C added with wg set: ping $T6C from A failed"
wait_for 10 ping_ok "$NS_C" $T4A || fail "peer C added with wg set: ping $T4A from C failed"
ping_ok "$NS_A" $T4B || fail "B stopped answering after C was added"
check_peer_state "$NA" kc "$ULC_C:$PC"
echo "  wg set $NA peer C allowed-ips ... endpoint ...: C answers IPv4 and IPv6, B still does"

# --- wg set: allowed-ips replaced live
wg set "$NA" peer "$(key_pub kb)" allowed-ips "$T4B/32"
ping_ok "$NS_A" $T6B && fail "B still reached at $T6B after its allowed-ips lost it"
ping_ok "$NS_A" $T4B || fail "B not reached at $T4B after allowed-ips $T4B/32"
wg set "$NA" peer "$(key_pub kb)" allowed-ips "$T4B/32,$T6B/128"
wait_for 10 ping_ok "$NS_A" $T6B || fail "B not reached at $T6B after its allowed-ips were restored"
echo "  wg set allowed-ips: routes follow at once (IPv6 to B cut, then restored)"

# --- wg set: listen port changed live; B learns the new endpoint from A's packets
wg set "$NA" listen-port $((PA + 100)) || fail "wg set $NA listen-port failed"
[ "$(wg show "$NA" listen-port)" = $((PA + 100)) ] || fail "listen-port not changed: $(wg show "$NA" listen-port)"
in_ns "$NS_A" ss -Hlun "sport = :$((PA + 100))" | grep -q . || fail "vwired is not listening on UDP $((PA + 100))"
in_ns "$NS_A" ss -Hlun "sport = :$PA" | grep -q . && fail "vwired still listens on the old port $PA"
wait_for 10 ping_ok "$NS_A" $T4B || fail "A -> B after the listen port change"
[ "$(peer_field "$NB" "$(key_pub ka)" endpoint)" = "$UL4_A:$((PA + 100))" ] ||
	fail "B sees A at $(peer_field "$NB" "$(key_pub ka)" endpoint), expected port $((PA + 100))"
echo "  wg set listen-port $((PA + 100)): socket moved, B now sees A at $UL4_A:$((PA + 100))"

# --- wg set: peer removed; nothing more goes to it
wg set "$NA" peer "$(key_pub kc)" remove || fail "wg set $NA peer C remove failed"
wg show "$NA" peers | grep -qF "$(key_pub kc)" && fail "C still listed after remove"
rx_before=$(peer_field "$NC" "$(key_pub ka)" rx)
ping_ok "$NS_A" $T4C && fail "C still answers after it was removed"
rx_after=$(peer_field "$NC" "$(key_pub ka)" rx)
[ "$rx_before" = "$rx_after" ] || fail "C received $((rx_after - rx_before)) more bytes from A after its removal"
ping_ok "$NS_A" $T4B || fail "B stopped answering after C was removed"
echo "  wg set $NA peer C remove: C gone from wg show, no packet reaches it (rx stays $rx_after), B unaffected"

# --- wg addconf: back again
peer_section kc "$T4C/32" "$ULC_C:$PC" >"$WORK/c.add"
wg addconf "$NA" "$WORK/c.add" || fail "wg addconf $NA failed"
wait_for 10 ping_ok "$NS_A" $T4C || fail "C re-added with wg addconf: ping failed"
[ "$(wg show "$NA" peers | wc -l)" = 2 ] || fail "after addconf: $(wg show "$NA" peers)"
echo "  wg addconf: C back and answering"
check_vwirectl "$NA" kc "$ULC_C"
stop_node "$NA"
echo "uapi-wg: PASS"
