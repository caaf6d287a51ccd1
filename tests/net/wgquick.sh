#!/bin/bash
# wg-quick with vwired as its userspace implementation, the way people run
# wireguard-go: `WG_QUICK_USERSPACE_IMPLEMENTATION=vwired wg-quick up CONF` brings the
# interface up and configured (addresses, MTU, routes for AllowedIPs); traffic flows
# to a wireguard-go peer; `wg-quick down` deletes the TUN and vwired exits by itself.
. "$(dirname "$0")/lib.sh"
for c in wg wg-quick wireguard-go; do command -v $c >/dev/null || { echo "$c missing"; exit 77; }; done

a=$(netns_add a)
b=$(netns_add b)
veth_pair "$a" eth0 192.168.203.1/24 "$b" eth0 192.168.203.2/24
ka=$("$VWIRECTL" genkey)
kb=$("$VWIRECTL" genkey)
ifa=wq$TAG
ifb=wg$TAG
cat >"$WORK/$ifa.conf" <<CONF
[Interface]
PrivateKey = $ka
Address = 10.56.0.1/24
ListenPort = 51820
MTU = 1400

[Peer]
PublicKey = $(echo "$kb" | "$VWIRECTL" pubkey)
AllowedIPs = 10.56.0.2/32, 10.57.0.0/16
Endpoint = 192.168.203.2:51820
CONF
chmod 600 "$WORK/$ifa.conf"

in_ns "$a" env WG_QUICK_USERSPACE_IMPLEMENTATION="$VWIRED" wg-quick up "$WORK/$ifa.conf" \
	>"$WORK/wg-quick-up.log" 2>&1 || { cat "$WORK/wg-quick-up.log"; fail "wg-quick up failed"; }
pid=$(pgrep -f "vwired $ifa" | head -1)
[ -n "$pid" ] || fail "no vwired process for $ifa after wg-quick up"
echo "wg-quick up: vwired pid $pid"
# Output captured first: `cmd | grep -q` can kill cmd with SIGPIPE, failing under pipefail.
addrs=$(in_ns "$a" ip -o addr show dev "$ifa")
[[ $addrs == *"10.56.0.1/24"* ]] || fail "address not applied"
[ "$(in_ns "$a" cat /sys/class/net/$ifa/mtu)" = 1400 ] || fail "MTU not applied"
routes=$(in_ns "$a" ip route show 10.57.0.0/16)
[[ $routes == *"$ifa"* ]] || fail "no route for AllowedIPs"
show=$(in_ns "$a" wg show "$ifa")
[[ $show == *"192.168.203.2:51820"* ]] || fail "wg show: endpoint missing"

bg wggo.log in_ns "$b" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$ifb"
wait_for 10 in_ns "$b" ip link show "$ifb" || fail "wireguard-go did not start"
echo "$kb" >"$WORK/kb"
wait_for 5 in_ns "$b" wg set "$ifb" private-key "$WORK/kb" listen-port 51820 \
	peer "$(echo "$ka" | "$VWIRECTL" pubkey)" allowed-ips 10.56.0.1/32 endpoint 192.168.203.1:51820
in_ns "$b" ip addr add 10.56.0.2/24 dev "$ifb"
in_ns "$b" ip link set "$ifb" up
ping_ok "$a" 10.56.0.2 || fail "ping through the wg-quick interface failed"
echo "ping over the wg-quick interface: ok"

in_ns "$a" wg-quick down "$WORK/$ifa.conf" >"$WORK/wg-quick-down.log" 2>&1 || fail "wg-quick down failed"
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "vwired still running after wg-quick down"
[ ! -e "/var/run/wireguard/$ifa.sock" ] || fail "UAPI socket left behind"
echo "wg-quick down: vwired exited, socket removed"
