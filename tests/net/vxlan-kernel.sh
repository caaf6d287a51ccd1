#!/bin/bash
# VXLAN interop with the kernel: a kernel vxlan device talks to src/vxlan.
#
#   namespace K:  vx0 (kernel vxlan, VNI 70000, remote 10.77.0.2, local 10.77.0.1, 10.78.0.1/24)
#                 vxt0 (TUN, MTU 1420, 10.77.0.1/24) owned by vxlan-responder, which is
#                 10.77.0.2 on the underlay and the host 10.78.0.2 behind the wire.
#
# A 1500-byte frame is a 1550-byte outer packet: the kernel fragments it to 1420 + 150
# (outer DF clear), the responder reassembles and decapsulates with src/vxlan, answers,
# and fragments its own 1550-byte replies the same way. Checks: pings of every kind
# succeed, nothing is dropped on vwire's side, vwire's outer headers match the kernel's
# (TTL, DF, UDP checksum), and tshark dissects vwire's packets as VXLAN with the right
# VNI, inner frame and checksums.
#
# What the kernel itself does with DF frames over 1370 bytes (its path MTU through a
# 1420 underlay) is printed as "kernel:" lines; see the notes at each step.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || { echo "tshark not installed"; exit 77; }
command -v ping >/dev/null || { echo "ping not installed"; exit 77; }

RESP="$VWIRE_BUILD/tests/tools/vxlan-responder"
[ -x "$RESP" ] || fail "no $RESP"
VNI=70000
MAC=02:00:00:5e:00:02
K=$(netns_add k)
C=$(netns_add c)
# netns_add runs in a $(...) subshell, so its NETNS_LIST entry is lost: register them here.
NETNS_LIST+=("$K" "$C")

# Started with ip netns exec (not in_ns, a function): $LAST_PID is then the process itself.
bg responder.log ip netns exec "$K" "$RESP" --tun vxt0 --local 10.77.0.2 --remote 10.77.0.1 \
	--vni $VNI --ip 10.78.0.2 --mac $MAC --mtu 1420
RESP_PID=$LAST_PID
wait_for 5 ip -n "$K" link show vxt0 || fail "responder did not create its TUN"
ip -n "$K" link set vxt0 mtu 1420 up
ip -n "$K" addr add 10.77.0.1/24 dev vxt0
# No "dev vxt0": with a lower device the kernel caps the vxlan MTU at 1420 - 50 = 1370 and
# refuses 1500, and full frames are the point. The route to the remote goes via the TUN anyway.
ip -n "$K" link add vx0 type vxlan id $VNI remote 10.77.0.2 local 10.77.0.1 dstport 4789
ip -n "$K" link set vx0 up
ip -n "$K" addr add 10.78.0.1/24 dev vx0
ip -n "$K" -d link show vx0 | grep -o 'vxlan id.*udpcsum' | sed 's/^/kernel: /'

bg dumpcap.log ip netns exec "$K" dumpcap -q -i vxt0 -w "$WORK/vxt0.pcapng"
CAP_PID=$LAST_PID
wait_for 10 grep -q "Capturing on" "$WORK/dumpcap.log" || fail "dumpcap did not start"

# ping_k ARGS...: one ping from K to the responder's host address, quiet.
ping_k() {
	in_ns "$K" ping -n -c 1 -W 2 "$@" 10.78.0.2 >"$WORK/ping.out" 2>&1
}

# 1. ARP and a small echo.
ping_k || fail "small ping"

# 2. DF set (-M do), full size and the edges around the tunnel MTU: 1342 makes a 1420-byte
#    outer packet (no fragments), 1343 the smallest fragmented one (1420 + 21).
#    kernel: after the first DF frame over 1370 the kernel lowers its path MTU to the
#    responder to 1370 (dst MTU 1420 - 50) although it sent the frame fine; later DF pings
#    then fail locally ("message too long, mtu=1370") until the route cache is flushed.
#    That is the sender's kernel, not vwire: flush before each, so every size reaches vwire.
for size in 1472 1342 1343 1400 1472; do
	ip -n "$K" route flush cache
	ping_k -M do -s $size || { cat "$WORK/ping.out"; fail "ping -M do -s $size"; }
done
if ping_k -M do -s 1472; then
	echo "kernel: a second DF 1500-byte ping passed without a cache flush"
else
	echo "kernel: second DF 1500-byte ping without a flush: $(grep -o 'local error.*' "$WORK/ping.out" || cat "$WORK/ping.out")"
fi
echo "kernel: $(ip -n "$K" route get 10.78.0.2 | grep -o 'mtu [0-9]*' || echo 'no cached mtu') on the route to the responder"

# 3. No DF, full size, several in a row: with the 1370 path MTU cached, the kernel now
#    fragments the inner packet itself; the responder reassembles those as a host would.
in_ns "$K" ping -n -q -c 5 -i 0.2 -W 2 -s 1472 10.78.0.2 >"$WORK/ping.out" 2>&1 ||
	{ cat "$WORK/ping.out"; fail "ping -s 1472"; }
grep -q ' 5 received' "$WORK/ping.out" || { cat "$WORK/ping.out"; fail "ping -s 1472: loss"; }

# 4. The kernel vxlan as a bridge port (the kernel path of a vwire host), a client behind it.
#    kernel: a DF frame over 1370 from the client is refused by vx0 with ICMP "frag needed,
#    mtu 1370" in the name of the destination and never sent; without DF the client's
#    stack then fragments to 1370 and everything passes.
ip -n "$K" addr flush dev vx0
ip -n "$K" link add br0 type bridge
ip -n "$K" link set vx0 master br0
ip -n "$K" link set br0 up
veth_pair "$K" vc0 "" "$C" vc1 10.78.0.5/24
ip -n "$K" link set vc0 master br0
wait_for 5 in_ns "$C" ping -n -c 1 -W 1 10.78.0.2 || fail "ping through the kernel bridge"
if in_ns "$C" ping -n -c 1 -W 2 -M do -s 1472 10.78.0.2 >"$WORK/ping.out" 2>&1; then
	echo "kernel: bridged DF 1500-byte ping passed"
else
	echo "kernel: bridged DF 1500-byte ping: $(grep -Eo 'Frag needed.*|local error.*' "$WORK/ping.out" | head -1)"
fi
in_ns "$C" ping -n -q -c 3 -i 0.2 -W 2 -s 1472 10.78.0.2 >"$WORK/ping.out" 2>&1 ||
	{ cat "$WORK/ping.out"; fail "bridged ping -s 1472"; }

sleep 1 # dumpcap reads in batches: let the last packets reach the file
kill -TERM "$CAP_PID"
wait "$CAP_PID" 2>/dev/null || true
kill -TERM "$RESP_PID"
wait "$RESP_PID" 2>/dev/null || true
stat() { awk -F= -v k="$1" '$1 == k {print $2}' "$WORK/responder.log"; }
grep -q '^echo_replies=' "$WORK/responder.log" || fail "responder printed no counters"

# vwire's side: everything that arrived was taken apart, answered, nothing dropped.
grep -E '^(vx|ipfrag)_drop_' "$WORK/responder.log" | grep -v '=0$' && fail "drops on vwire's side"
[ "$(stat echo_requests)" = "$(stat echo_replies)" ] || fail "unanswered echo requests"
# 1 small + 5 DF + 5 plain from K, 1 small + 3 plain from the client: 15.
[ "$(stat echo_replies)" -ge 15 ] || fail "only $(stat echo_replies) echo replies"
# DF pings of 1472, 1343, 1400, 1472 arrive as outer fragments (1342 fits in 1420).
[ "$(stat ipfrag_reassembled)" -ge 4 ] || fail "only $(stat ipfrag_reassembled) outer datagrams reassembled"
[ "$(stat inner_reassembled)" -ge 4 ] || fail "no inner reassembly exercised"
[ "$(stat max_frame_in)" -eq 1514 ] && [ "$(stat max_frame_out)" -eq 1514 ] || fail "no full frames"
# The same sizes both ways: 1420 + 150 for full frames, 1420 + 21 for the smallest split.
for side in rx tx; do
	for size in 1420 150 21; do
		case ",$(stat ${side}_fragment_sizes)," in *",$size,"*) ;;
		*) fail "$side fragment sizes $(stat ${side}_fragment_sizes) lack $size" ;; esac
	done
done
[ "$(stat tx_max_len)" -le 1420 ] || fail "vwire sent $(stat tx_max_len) bytes over a 1420 MTU"
# The outer header as the kernel sends it: same TTL, DF clear, a UDP checksum.
[ "$(stat tx_df_set)" = 0 ] || fail "vwire set DF"
[ "$(stat rx_ttl_min)" = "$(stat tx_ttl_min)" ] && [ "$(stat tx_ttl_min)" = "$(stat tx_ttl_max)" ] ||
	fail "TTL: kernel $(stat rx_ttl_min), vwire $(stat tx_ttl_min)..$(stat tx_ttl_max)"
[ "$(stat tx_udp_csum_zero)" = 0 ] || fail "vwire sent zero UDP checksums"
echo "kernel: outer ttl=$(stat rx_ttl_min) df_set=$(stat rx_df_set) udp_csum zero/nonzero=$(stat rx_udp_csum_zero)/$(stat rx_udp_csum_nonzero) sport=$(stat rx_sport_min)..$(stat rx_sport_max) fragment sizes=$(stat rx_fragment_sizes)"
echo "vwire:  outer ttl=$(stat tx_ttl_min) df_set=$(stat tx_df_set) udp_csum zero/nonzero=$(stat tx_udp_csum_zero)/$(stat tx_udp_csum_nonzero) sport=$(stat tx_sport_min)..$(stat tx_sport_max) fragment sizes=$(stat tx_fragment_sizes)"

# A third party's reading of vwire's packets: tshark, checksums verified, fragments reassembled.
TS=(tshark -n -r "$WORK/vxt0.pcapng" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)
"${TS[@]}" -Y "ip.src == 10.77.0.2 && !vxlan && !(ip.flags.mf == 1)" -T fields -e frame.number \
	>"$WORK/notvx.txt"
[ ! -s "$WORK/notvx.txt" ] || fail "vwire packets tshark does not see as VXLAN: $(head -3 "$WORK/notvx.txt")"
# First occurrences: the outer IPv4 header's DF, not the inner packet's.
"${TS[@]}" -Y "ip.src == 10.77.0.2 && vxlan" -E occurrence=f -T fields -e vxlan.vni \
	-e vxlan.flag_i -e eth.src -e eth.type -e udp.checksum.status -e ip.flags.df >"$WORK/vx.txt"
n=$(wc -l <"$WORK/vx.txt")
[ "$n" -eq "$(stat vx_encap)" ] || fail "tshark found $n VXLAN packets from vwire, it sent $(stat vx_encap)"
# udp.checksum.status 1 is "Good" (verified, since udp.check_checksum is on).
bad=$(awk -F'\t' -v vni=$VNI -v mac=$MAC '$1 != vni || ($2 != "True" && $2 != "1") || $3 != mac || ($5 != 1 && $5 != "Good") || ($6 != 0 && $6 != "False")' "$WORK/vx.txt" | head -3)
[ -z "$bad" ] || fail "tshark disagrees on vwire's VXLAN packets: $bad"
# Full frames: 1550-byte reassembled outer packets carrying 1480-byte ICMP replies.
full=$("${TS[@]}" -Y "ip.src == 10.77.0.2 && vxlan && icmp.type == 0 && ip.len == 1500" | wc -l)
[ "$full" -ge 10 ] || fail "tshark saw $full full-size replies from vwire"
mal=$("${TS[@]}" -Y "_ws.malformed || _ws.expert.severity >= error" -T fields -e frame.number \
	-e _ws.expert.message | head -5)
[ -z "$mal" ] || fail "tshark reports errors: $mal"
echo "tshark: $n VXLAN packets from vwire, VNI $VNI, $full full-size replies, no malformed packets"
echo "vxlan-kernel: ok"
