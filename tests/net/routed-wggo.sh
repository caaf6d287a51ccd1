#!/bin/bash
# SPDX-License-Identifier: MIT
# vwired <-> wireguard-go (Debian's) over a veth underlay, interop end to end:
# each side initiates in turn, IPv4 and IPv6 endpoints, with and without a
# preshared key, IPv4 and IPv6 inner traffic, full-MTU packets, iperf3 both
# directions. Every round's handshake is captured with tshark on the underlay
# and must dissect as valid WireGuard: message types, indices, no malformed
# packet, and (given the static private keys) the initiation's mac1,
# encrypted static and TAI64N timestamp verified by Wireshark's dissector.
# VWIRED_IO=uring|epoll|noiouring selects the io backend (see lib.sh).
. "$(dirname "$0")/lib.sh"
need_cmd wg wireguard-go iperf3 jq tshark
need_vwired

NET=72
NS_A=$(netns_add a)
NS_B=$(netns_add b)
IF_A="ua$TAG"
underlay "$NS_A" "$IF_A" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb

echo "routed-wggo: io ${VWIRED_IO:-auto}"
#            N  A      B    init UL PSK iperf capture
routed_round 1 vwired wggo a    4  no  a     yes
routed_round 2 vwired wggo b    6  no  ""    yes
routed_round 3 vwired wggo a    6  yes ""    yes
routed_round 4 vwired wggo b    4  yes b     yes
echo "routed-wggo: PASS"
