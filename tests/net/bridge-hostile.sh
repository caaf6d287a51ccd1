#!/bin/bash
# SPDX-License-Identifier: MIT
# A misbehaving neighbour cannot take over vwired's bridge.
#
# Two vwired hosts A and B, one wire between their bridges (STP hello 1, forward delay 4,
# max age 6). A has [Bridge] MaxLearned = 16 and a TAP port facing a "VM" with BPDUGuard.
#   1. B's host floods 3000 frames from random source MACs out of its bridge device: they
#      cross the wire, A learns at most 16 addresses on its wire port and counts the rest
#      (showstp --json: learned_entries, learn_limit); the frames were still flooded to
#      A's own interface, and A and B still ping each other.
#   2. The "VM" sends a BPDU into A's guarded TAP port: A disables that port, says so in
#      its log, and showstp --json shows it disabled by BPDU guard with one trip; the wire
#      keeps forwarding.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
need_cmd jq python3 wg ping
[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"
[ -x "$VWIRECTL" ] || skip "vwirectl not built"

NAME_A=ha$TAG NAME_B=hb$TAG BR_A=ba$TAG BR_B=bb$TAG VM=v$TAG WIRE=w$TAG
FLOOD=3000 MAX_LEARNED=16
RUN_DIR=$WORK/run
mkdir -p "$RUN_DIR"

NS_A=$(netns_add a)
NS_B=$(netns_add b)
NETNS_LIST+=("$NS_A" "$NS_B")
underlay "$NS_A" ula "$NS_B" ulb 62
keygen a
keygen b

# host_conf NAME SELF OTHER TUNNEL_SELF TUNNEL_OTHER ENDPOINT_OTHER BRIDGE BRIDGE_ADDR EXTRA
host_conf() {
	cat <<-CONF
	[Interface]
	Name = $1
	PrivateKey = $(key_priv "$2")
	ListenPort = 51820
	Address = $4/24
	[Peer]
	PublicKey = $(key_pub "$3")
	AllowedIPs = $5/32
	Endpoint = $6:51820
	[Bridge]
	Name = $7
	Address = $8/24
	HelloTime = 1
	ForwardDelay = 4
	MaxAge = 6
	$9
	[Wire]
	Name = $WIRE
	Remote = $5
	VNI = 62
	CONF
}
host_conf "$NAME_A" a b 10.62.0.1 10.62.0.2 "$UL4_B" "$BR_A" 10.62.1.1 \
	"MaxLearned = $MAX_LEARNED
Ports = $VM
BPDUGuard = $VM" >"$WORK/$NAME_A.conf"
host_conf "$NAME_B" b a 10.62.0.2 10.62.0.1 "$UL4_A" "$BR_B" 10.62.1.2 "" >"$WORK/$NAME_B.conf"
start_vwired "$NS_A" "$WORK/$NAME_A.conf" "$NAME_A"
start_vwired "$NS_B" "$WORK/$NAME_B.conf" "$NAME_B"

stp_a() { "$VWIRECTL" --run-dir "$RUN_DIR" showstp "$BR_A" --json; }
# port_a NAME FIELD: a field of one of A's ports in showstp --json.
port_a() { stp_a | jq -r --arg n "$1" --arg f "$2" '.ports[] | select(.name == $n) | .[$f]'; }
wire_forwarding() { [ "$(port_a "$WIRE" state)" = forwarding ]; }

wait_for 40 wire_forwarding || fail "A's wire port never reached forwarding: $(stp_a)"
wait_for 20 ping_ok "$NS_A" 10.62.1.2 || fail "A cannot ping B across the wire"
[ "$(port_a "$WIRE" learned_entries)" -ge 1 ] || fail "A learned nothing on its wire: $(stp_a)"

# 1. The flood, from B's host: broadcast frames from random unicast sources.
send_frames() { # NS IFACE COUNT KIND (flood | bpdu)
	in_ns "$1" python3 - "$2" "$3" "$4" <<'PY'
import os, socket, struct, sys
ifname, count, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
sent = 0
for _ in range(count):
    src = bytearray(os.urandom(6))
    src[0] = (src[0] & 0xFE) | 0x02
    if kind == "flood":
        frame = b"\xff" * 6 + bytes(src) + b"\x88\xb5" + b"\x00" * 46
    else:
        # 802.1D configuration BPDU claiming root with priority 0
        bid = b"\x00\x00" + bytes(src)
        bpdu = (b"\x00\x00\x00\x00\x00" + bid + b"\x00" * 4 + bid + b"\x80\x01" +
                struct.pack(">HHHH", 0, 20 * 256, 2 * 256, 15 * 256))
        body = b"\x42\x42\x03" + bpdu
        frame = b"\x01\x80\xc2\x00\x00\x00" + bytes(src) + struct.pack(">H", len(body)) + body
        frame += b"\x00" * (60 - len(frame))
    while True:
        try:
            s.send(frame)
            break
        except BlockingIOError:
            pass
    sent += 1
print(sent)
PY
}
# frames vwired wrote into A's bridge device (the kernel side's receive count)
tap_rx_a() { ip -n "$NS_A" -s -j link show dev "$BR_A" | jq -r '.[0].stats64.rx.packets'; }
rx_before=$(tap_rx_a)
sent=$(send_frames "$NS_B" "$BR_B" $FLOOD flood) || fail "could not send the flood from B"
echo "  B sent $sent frames from random sources"
over_cap() { [ "$(port_a "$WIRE" learn_limit)" -ge $((FLOOD / 2)) ]; }
wait_for 20 over_cap || fail "A counted too few unlearned sources: $(stp_a | jq -c ".ports[] | select(.name == \"$WIRE\")")"
learned=$(port_a "$WIRE" learned_entries)
limit=$(port_a "$WIRE" learn_limit)
delivered=$(($(tap_rx_a) - rx_before))
echo "  A's wire port: learned_entries $learned, learn_limit $limit; $delivered frames reached A's $BR_A"
[ "$delivered" -ge $((FLOOD / 2)) ] || fail "the flood was not forwarded to A's own interface"
[ "$learned" -eq $MAX_LEARNED ] || fail "A's wire port holds $learned entries, cap $MAX_LEARNED"
[ "$(stp_a | jq -r .max_learned)" -eq $MAX_LEARNED ] || fail "showstp max_learned is not $MAX_LEARNED"
[ "$(stp_a | jq -r .fdb_learn_limit)" -ge "$limit" ] || fail "bridge-wide fdb_learn_limit below the port's"
ping_ok "$NS_A" 10.62.1.2 || fail "A cannot ping B after the flood"
ping_ok "$NS_B" 10.62.1.1 || fail "B cannot ping A after the flood"

# 2. BPDU guard: a BPDU from the VM's side of A's TAP port.
[ "$(port_a "$VM" bpdu_guard)" = true ] || fail "$VM has no BPDU guard: $(stp_a)"
[ "$(port_a "$VM" state)" != disabled ] || fail "$VM disabled before any BPDU"
send_frames "$NS_A" "$VM" 1 bpdu >/dev/null || fail "could not send a BPDU into $VM"
guard_tripped() { [ "$(port_a "$VM" bpdu_guard_disabled)" = true ]; }
wait_for 10 guard_tripped || fail "BPDU guard did not disable $VM: $(stp_a)"
[ "$(port_a "$VM" state)" = disabled ] || fail "$VM is $(port_a "$VM" state), not disabled"
[ "$(port_a "$VM" bpdu_guard_trips)" -eq 1 ] || fail "bpdu_guard_trips is not 1"
grep -q "BPDUGuard" "$WORK/$NAME_A.log" || fail "no log line about BPDU guard in A's log"
echo "  A's log: $(grep BPDUGuard "$WORK/$NAME_A.log" | head -n 1)"
# the BPDU went nowhere: A did not take the VM's priority-0 bridge as root
case "$(stp_a | jq -r .designated_root)" in 0000.*) fail "A took the VM's BPDU: root $(stp_a | jq -r .designated_root)" ;; esac
wire_forwarding || fail "A's wire port stopped forwarding"
ping_ok "$NS_A" 10.62.1.2 || fail "A cannot ping B after the BPDU guard tripped"
echo "bridge-hostile: OK"
