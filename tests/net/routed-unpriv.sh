#!/bin/bash
# SPDX-License-Identifier: MIT
# vwired with no privileges, against a root vwired:
#  1. as user nobody with no capabilities at all, attached to a persistent TUN
#     that root created beforehand (`ip tuntap add ... user nobody`, address,
#     MTU, up); its run dir under $WORK; checked with vwirectl --run-dir;
#  2. as nobody inside `unshare --user --map-root-user --net`, where vwired
#     creates the TUN and applies MTU and Address itself; root then moves one
#     end of a veth into that namespace.
# Each passes the ping test both ways (IPv4 and IPv6 inner) and exits cleanly.
# /dev/net/tun is 0600 on some systems (0666 on Debian): then a 0666 node for
# the same device is bind-mounted over it in a private mount namespace.
# VWIRED_IO as in lib.sh.
. "$(dirname "$0")/lib.sh"
need_cmd wg jq setpriv unshare nsenter
need_vwired
[ "$VWIRE_TEST_IMPL" = vwired ] || skip "vwired-only test (VWIRE_TEST_IMPL=$VWIRE_TEST_IMPL)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOGROUP=$(id -gn nobody)

NET=77
NS_A=$(netns_add a)
NS_B=$(netns_add b)
underlay "$NS_A" "ua$TAG" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb
NA="a$TAG" NB="b$TAG" PA=51850 PB=51851
T4A=10.$NET.0.1 T4B=10.$NET.0.2 T6A=fd00:$NET::1 T6B=fd00:$NET::2
echo "routed-unpriv: io ${VWIRED_IO:-auto}"

# B: an ordinary root vwired that knows both of A's incarnations' endpoints
# (the second one is learnt from its packets).
peer_section ka "$T4A/32,$T6A/128" "$UL4_A:$PA" >"$WORK/$NB.peers"
wg_node vwired "$NS_B" "$NB" kb $PB $T4B $T6B "$WORK/$NB.peers"

# Everything nobody needs: traversal of $WORK, a run dir and config it owns.
chmod 711 "$WORK"
TUNDEV=/dev/net/tun
if ! setpriv --reuid nobody --regid "$NOGROUP" --clear-groups sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
	mknod "$WORK/tun" c 10 200
	chmod 666 "$WORK/tun"
	TUNDEV=$WORK/tun
	echo "  /dev/net/tun is not open to nobody: a 0666 node is bind-mounted over it"
fi
AS_NOBODY=(setpriv --reuid nobody --regid "$NOGROUP" --clear-groups --inh-caps=-all
	--bounding-set=-all --no-new-privs)
# wrap PROG...: the private mount namespace with the usable tun node, then nobody.
MOUNT_TUN=(unshare --mount sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$TUNDEV")

# unpriv_conf FILE NAME: A's config, owned by nobody and private to it.
unpriv_conf() {
	{
		echo "[Interface]"
		echo "Name = $2"
		echo "PrivateKey = $(key_priv ka)"
		echo "ListenPort = $PA"
		echo "Address = $T4A/24"
		echo "Address = $T6A/64"
		echo "MTU = 1420"
		peer_section kb "$T4B/32,$T6B/128" "$UL4_B:$PB"
	} >"$1"
	chown nobody:"$NOGROUP" "$1"
	chmod 600 "$1"
}

# check_unpriv_proc NAME: the process runs as nobody, with no capabilities
# (in the initial user namespace, or in a user namespace of its own).
check_unpriv_proc() {
	local pid=${NODE_PID[$1]} st
	st=/proc/$pid/status
	awk '/^Uid:/ { for (i = 2; i <= 5; i++) if ($i != 65534) exit 1 }' "$st" ||
		fail "$1 does not run as nobody: $(grep -E '^(Uid|Gid):' "$st")"
	if [ "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/self/ns/user)" ]; then
		grep -qE '^CapEff:\s+0+$' "$st" && grep -qE '^CapPrm:\s+0+$' "$st" ||
			fail "$1 has capabilities: $(grep -E '^Cap(Eff|Prm)' "$st")"
		echo "  $1: pid $pid runs as nobody, CapEff 0, CapPrm 0"
	else
		echo "  $1: pid $pid runs as nobody (uid 0 of its own user namespace)"
	fi
}

# check_run_dir DIR NAME: both sockets mode 0600 and owned by nobody.
check_run_dir() {
	local f
	for f in "$1/wireguard/$2.sock" "$1/vwire/$2.ctl"; do
		[ "$(stat -c '%a %U' "$f")" = "600 nobody" ] ||
			fail "$f: mode and owner $(stat -c '%a %U' "$f"), expected 600 nobody"
	done
	echo "  sockets $1/{wireguard/$2.sock,vwire/$2.ctl}: mode 0600, owner nobody"
}

# --- 1. nobody, pre-created persistent TUN
ip -n "$NS_A" tuntap add dev "$NA" mode tun user nobody group "$NOGROUP"
ip -n "$NS_A" addr add "$T4A/24" dev "$NA"
ip -n "$NS_A" addr add "$T6A/64" dev "$NA" nodad
ip -n "$NS_A" link set "$NA" mtu 1420 up
RUN1=$WORK/run1
mkdir -m 700 "$RUN1"
chown nobody:"$NOGROUP" "$RUN1"
unpriv_conf "$RUN1/$NA.conf" "$NA"
RUN_DIR=$RUN1
VWIRED_WRAP=("${MOUNT_TUN[@]}" "${AS_NOBODY[@]}")
start_vwired "$NS_A" "$RUN1/$NA.conf" "$NA"
VWIRED_WRAP=()
RUN_DIR=/run
check_unpriv_proc "$NA"
check_run_dir "$RUN1" "$NA"
ping_both "$NS_A" $T4A "$NS_B" $T4B "IPv4 inner (nobody, persistent TUN)"
ping_both "$NS_A" $T6A "$NS_B" $T6B "IPv6 inner (nobody, persistent TUN)"
check_vwirectl "$NA" kb "$UL4_B"
stop_node "$NA"
ip -n "$NS_A" -d link show "$NA" | grep -q 'persist on' || fail "the persistent TUN $NA is gone after vwired exited"
ip -n "$NS_A" link del "$NA"
echo "  stopped cleanly, sockets removed, persistent TUN left in place"

# --- 2. nobody in its own user and network namespace
NU="u$TAG"
RUN2=$WORK/run2
mkdir -m 700 "$RUN2"
chown nobody:"$NOGROUP" "$RUN2"
unpriv_conf "$RUN2/$NU.conf" "$NU"
RUN_DIR=$RUN2
VWIRED_WRAP=("${MOUNT_TUN[@]}" "${AS_NOBODY[@]}" unshare --user --map-root-user --net)
start_vwired - "$RUN2/$NU.conf" "$NU"
VWIRED_WRAP=()
RUN_DIR=/run
check_unpriv_proc "$NU"
check_run_dir "$RUN2" "$NU"
PID_U=${NODE_PID[$NU]}
in_u() { nsenter -t "$PID_U" -n "$@"; }
in_u ip -d link show "$NU" >"$WORK/u-link.txt" 2>&1 || fail "vwired made no TUN $NU in its namespace: $(cat "$WORK/u-link.txt")"
# The sockets may be there before the link settings: give them a moment.
tun_ready() {
	in_u ip addr show dev "$NU" >"$WORK/u-addr.txt" 2>&1
	grep -q 'mtu 1420 ' "$WORK/u-addr.txt" && grep -q '[<,]UP[,>]' "$WORK/u-addr.txt" &&
		grep -q "inet $T4A/24" "$WORK/u-addr.txt" && grep -q "inet6 $T6A/64" "$WORK/u-addr.txt"
}
wait_for 5 tun_ready || fail "TUN $NU is not up with MTU 1420, $T4A/24 and $T6A/64 after 5 s: $(cat "$WORK/u-addr.txt")"
echo "  vwired created TUN $NU itself: MTU 1420, up, $T4A/24 and $T6A/64"
# The cable: B's old end is replaced by one reaching into vwired's namespace.
ip -n "$NS_A" link del "ua$TAG"
ip link add "uu$TAG" type veth peer name "ub$TAG" netns "$NS_B"
ip link set "uu$TAG" netns "$PID_U"
ip -n "$NS_B" addr add "$UL4_B/24" dev "ub$TAG"
ip -n "$NS_B" addr add "$UL6_B/64" dev "ub$TAG" nodad
ip -n "$NS_B" link set "ub$TAG" up
in_u ip addr add "$UL4_A/24" dev "uu$TAG"
in_u ip link set "uu$TAG" up
in_u ip link set lo up
wait_for 10 in_u ping -q -c 3 -i 0.2 -W 2 $T4B || fail "ping $T4B from vwired's user namespace failed"
wait_for 10 ping_ok "$NS_B" $T4A || fail "ping $T4A from B failed"
wait_for 10 in_u ping -q -c 3 -i 0.2 -W 2 $T6B || fail "ping $T6B from vwired's user namespace failed"
echo "  ping IPv4 and IPv6 inner both ways through vwired in unshare --user --map-root-user --net"
check_vwirectl "$NU" kb "$UL4_B"
stop_node "$NU"
stop_node "$NB"
echo "routed-unpriv: PASS"
