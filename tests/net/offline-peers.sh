#!/bin/bash
# SPDX-License-Identifier: MIT
# Offline peers must not starve the live one. A hub with one live peer and 60 peers
# whose endpoints never answer; an unprivileged local user sends 200 datagrams toward
# each silent peer's allowed IPs. Those packets are staged (waiting for handshakes that
# never complete), and staged packets draw on the packet pool that every receive ring
# needs: without a bound over all peers, ~16-30 such peers drain it and the live peer's
# pings all fail for minutes. Afterwards the live peer's pings must still pass, and the
# device's staging budget must show in vwirectl show --json as evictions.
. "$(dirname "$0")/lib.sh"
need_cmd wg jq setpriv python3
need_vwired

NET=74
SILENT=${SILENT_PEERS:-60}
NS_A=$(netns_add hub)
NS_B=$(netns_add live)
underlay "$NS_A" "ua$TAG" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb
NA="hub$TAG" NB="live$TAG"

{
	echo "[Interface]"
	echo "Name = $NA"
	echo "PrivateKey = $(key_priv ka)"
	echo "ListenPort = 51820"
	echo "Address = 10.$NET.0.1/16"
	peer_section kb "10.$NET.0.2/32" "$UL4_B:51821"
	for i in $(seq 1 "$SILENT"); do
		keygen "s$i"
		# Endpoints on the underlay's subnet where no host answers.
		peer_section "s$i" "10.$NET.1.$i/32" "192.168.$NET.$((100 + i % 150)):$((52000 + i))"
	done
} >"$WORK/$NA.conf"
start_vwired "$NS_A" "$WORK/$NA.conf" "$NA"
peer_section ka "10.$NET.0.1/32" "$UL4_A:51820" >"$WORK/$NB.peers"
wg_node vwired "$NS_B" "$NB" kb 51821 10.$NET.0.2 fd00:$NET::2 "$WORK/$NB.peers"

wait_for 10 ping_ok "$NS_A" 10.$NET.0.2 || fail "live peer: first ping failed"
ping_count() { # replies out of 20
	local out
	out=$(in_ns "$NS_A" ping -q -c 20 -i 0.2 -W 1 10.$NET.0.2 2>/dev/null || true)
	echo "$out" | awk '/received/ { print $4 }'
}
before=$(ping_count)
echo "  live peer before the traffic: $before/20 replies"

# Not root: any local user can do this.
in_ns "$NS_A" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$NET" "$SILENT" <<'PY'
import socket, sys
net, silent = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(200):
    for i in range(1, silent + 1):
        try:
            s.sendto(b"x" * 1000, ("10.%s.1.%d" % (net, i), 9))
        except OSError:
            pass
PY
echo "  sent 200 datagrams toward each of $SILENT silent peers"

after=$(ping_count)
echo "  live peer after the traffic: $after/20 replies"
json=$("$VWIRECTL" --run-dir "$RUN_DIR" show "$NA" --json)
evicted=$(echo "$json" | jq '.drops.tx_staged_evicted')
overflow=$(echo "$json" | jq '.drops.tx_staged_overflow')
echo "  staged packets evicted (budget over all peers): $evicted, pushed out per peer: $overflow"
[ "$after" -ge 18 ] || fail "the live peer lost its pings to the silent peers' staged packets ($after/20)"
[ "$evicted" -gt 0 ] || fail "no staged packet was evicted: the budget was never reached"
staged=$(echo "$json" | jq '.limits.staged.packets')
max=$(echo "$json" | jq '.limits.staged.max')
echo "  staged now: $staged of $max; pool: $(echo "$json" | jq -c '.limits.packet_pool')"
[ "$staged" -le "$max" ] && [ "$staged" -gt 0 ] || fail "staged packets $staged outside 1..$max"
# A later burst of its own still goes through (the pool came back).
wait_for 5 ping_ok "$NS_A" 10.$NET.0.2 -s 1400 || fail "live peer: 1400-byte pings fail"
stop_node "$NA"
stop_node "$NB"
echo "offline-peers: PASS"
