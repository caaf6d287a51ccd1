#!/bin/bash
# SPDX-License-Identifier: MIT
# vwired <-> vwired over a veth underlay, the routed path end to end: ping both ways
# with each side initiating the handshake, IPv4 and IPv6 inner traffic, IPv4
# and IPv6 endpoints, a preshared key, full-MTU packets, a short iperf3 run,
# `wg show` and `vwirectl show [--json]` on both sides, clean exit on SIGTERM.
# With tshark installed the handshakes are checked on the wire as well.
# VWIRED_IO=uring|epoll|noiouring selects the io backend (see lib.sh).
. "$(dirname "$0")/lib.sh"
need_cmd wg iperf3 jq
need_vwired

NET=71
NS_A=$(netns_add a)
NS_B=$(netns_add b)
IF_A="ua$TAG"
underlay "$NS_A" "$IF_A" "$NS_B" "ub$TAG" $NET
keygen ka
keygen kb
cap=no
if command -v tshark >/dev/null; then cap=yes; else echo "(tshark not installed: no capture check)"; fi

echo "routed-vwired: io ${VWIRED_IO:-auto}"
routed_round 1 vwired vwired a 4 no a $cap
routed_round 2 vwired vwired b 6 yes b $cap
echo "routed-vwired: PASS"
