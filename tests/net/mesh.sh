#!/bin/bash
# vwirectl mesh end to end: one mesh file for the seed's five hosts (epsilon on the kernel
# path, the others vwired, pi0 behind NAT with its one wire to rho), the files it writes
# (modes, keys kept on a second run, byte for byte the same, no private key on stdout,
# nothing written for a bad file), and those files run as they are in namespaces:
# vwired -c NAME.conf, and for epsilon wg-quick up (wireguard-go) then sh epsilon.sh.
# The tree settles with rho as root and its 7 wires, and every host pings every other
# over the bridge.
. "$(dirname "$0")/lib.sh"
# Read-only use of its helpers: port states, the root each bridge sees, convergence, pings.
. "$(dirname "$0")/fivehost.sh"
need_cmd wg wg-quick wireguard-go python3
need_vwired
need_vxlan

FIVEHOST_KERNEL=epsilon
OUT=$WORK/out
# Every WireGuard interface gets a name of this run: wg-quick's socket is shared by all
# namespaces (/var/run/wireguard), and start_vwired names logs after the interface.
ifname() { echo "m$TAG${FH_IDX[$1]}"; }

# The underlay: one kernel bridge in a "wan" namespace, host N at 192.168.200.N.
wan=$(netns_add wan)
ip -n "$wan" link add wan type bridge
ip -n "$wan" link set wan up
i=0
for h in "${FIVEHOST_NAMES[@]}"; do
	i=$((i + 1))
	FH_IDX[$h]=$i
	FH_NS[$h]=$(netns_add "$h")
	veth_pair "$wan" "to$h" "" "${FH_NS[$h]}" eth0 "192.168.200.$i/24"
	ip -n "$wan" link set "to$h" master wan
done

{
	cat <<-MESH
	# The seed's network, in one file.
	[Network]
	TunnelPrefix = 10.0.0.0/24
	BridgePrefix = 10.1.0.0/24
	BridgeName = internet
	HelloTime = $FIVEHOST_HELLO
	ForwardDelay = $FIVEHOST_FWD
	MaxAge = $FIVEHOST_MAXAGE
	Root = rho
	MESH
	for h in "${FIVEHOST_NAMES[@]}"; do
		echo
		echo "[Host]"
		echo "Name = $h"
		echo "Interface = $(ifname "$h")"
		case $h in
		pi0) printf 'BehindNAT = yes\nWires = rho\n' ;;
		*) echo "Endpoint = 192.168.200.${FH_IDX[$h]}:51820" ;;
		esac
		[ "$h" != epsilon ] || echo "Kind = kernel"
	done
} >"$WORK/five.mesh"

# ---- the files ----
"$VWIRECTL" mesh "$WORK/five.mesh" -o "$OUT" >"$WORK/mesh-out.txt" 2>"$WORK/mesh-err.txt" ||
	fail "vwirectl mesh failed: $(cat "$WORK/mesh-err.txt")"
cat "$WORK/mesh-out.txt"
[ "$(stat -c %a "$OUT")" = 700 ] || fail "$OUT has mode $(stat -c %a "$OUT"), expected 700"
[ "$(stat -c %a "$OUT/keys")" = 700 ] || fail "$OUT/keys has mode $(stat -c %a "$OUT/keys")"
want="bob.conf epsilon.conf epsilon.sh keys pi0.conf rho.conf vorke.conf"
[ "$(ls "$OUT" | tr '\n' ' ' | sed 's/ $//')" = "$want" ] || fail "$OUT holds $(ls "$OUT"), expected $want"
for f in "$OUT"/*.conf "$OUT"/*.sh "$OUT"/keys/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f"), expected 600"
done
[ "$(ls "$OUT/keys" | wc -l)" -eq 5 ] || fail "expected 5 keys in $OUT/keys: $(ls "$OUT/keys")"
for k in "$OUT"/keys/*.key; do
	! grep -qF -- "$(cat "$k")" "$WORK/mesh-out.txt" "$WORK/mesh-err.txt" ||
		fail "vwirectl mesh printed the private key of $k"
	grep -qF -- "$(cat "$k")" "$OUT/$(basename "$k" .key).conf" ||
		fail "$(basename "$k" .key).conf does not hold the key kept in $k"
done
cp -a "$OUT" "$WORK/out-first"
"$VWIRECTL" mesh "$WORK/five.mesh" -o "$OUT" >/dev/null || fail "second vwirectl mesh failed"
diff -r "$WORK/out-first" "$OUT" >"$WORK/rerun.diff" ||
	fail "a second run changed the files: $(head -n 20 "$WORK/rerun.diff")"
echo "files: modes 700/600, a key per host, none printed, a second run writes the same bytes"
# A bad file is refused with its line, and nothing is written.
sed 's/^Wires = rho$/Wires = rho, nobody/' "$WORK/five.mesh" >"$WORK/bad.mesh"
if "$VWIRECTL" mesh "$WORK/bad.mesh" -o "$WORK/out-bad" 2>"$WORK/bad-err.txt"; then
	fail "vwirectl mesh accepted a wire to an unknown host"
fi
grep -qE '^'"$WORK"'/bad.mesh:[0-9]+: \[Host\] Wires: "nobody" is no \[Host\]' "$WORK/bad-err.txt" ||
	fail "unexpected message for a bad mesh file: $(cat "$WORK/bad-err.txt")"
[ ! -e "$WORK/out-bad" ] || fail "vwirectl mesh wrote $WORK/out-bad for a bad file"
echo "bad file: $(cat "$WORK/bad-err.txt"); nothing written"

# ---- the network, from those files ----
for h in "${FIVEHOST_NAMES[@]}"; do
	[ "$h" != epsilon ] || continue
	FH_RUN[$h]=$WORK/run-$h
	mkdir -p "${FH_RUN[$h]}"
	RUN_DIR=${FH_RUN[$h]} start_vwired "${FH_NS[$h]}" "$OUT/$h.conf" "$(ifname "$h")"
done
# wg-quick names the interface after its file, as the header of epsilon.conf says.
cp "$OUT/epsilon.conf" "$WORK/$(ifname epsilon).conf"
in_ns "${FH_NS[epsilon]}" env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go \
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
	wg-quick up "$WORK/$(ifname epsilon).conf" >"$WORK/wg-quick.log" 2>&1 ||
	fail "wg-quick up epsilon failed: $(cat "$WORK/wg-quick.log")"
in_ns "${FH_NS[epsilon]}" sh "$OUT/epsilon.sh" >"$WORK/epsilon-sh.log" 2>&1 ||
	fail "sh epsilon.sh failed: $(cat "$WORK/epsilon-sh.log")"
echo "up: vwired on rho, vorke, bob, pi0; wg-quick and epsilon.sh on epsilon"

t0=$SECONDS
wait_for 90 fh_converged "${FIVEHOST_NAMES[@]}" || {
	for h in "${FIVEHOST_NAMES[@]}"; do echo "$h: $(fh_port_states "$h" | tr '\n' ' ')"; done
	fail "spanning tree did not settle in 90 s"
}
echo "converged in $((SECONDS - t0)) s"
for h in "${FIVEHOST_NAMES[@]}"; do echo "  $h: $(fh_port_states "$h" | tr '\n' ' ')"; done
roots=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_root_of "$h"; done | sort -u)
[ "$(echo "$roots" | wc -l)" -eq 1 ] || fail "bridges disagree on the root: $roots"
# Root = rho gave it priority 4096 (0x1000), the others the default 32768.
case $roots in 1000.*) ;; *) fail "root $roots is not rho's bridge (priority 4096)" ;; esac
echo "root: $roots (rho)"
# Every wire the file meant exists: 7 wires, 5 bridges, so a tree blocks 3 wire ends.
blocked=$(for h in "${FIVEHOST_NAMES[@]}"; do fh_port_states "$h" | awk -v h="$h" '$2 == "blocking" { print h "->" $1 }'; done)
[ "$(echo "$blocked" | grep -c .)" -eq 3 ] || fail "expected 3 blocked wire ends, got: $blocked"

for f in "${FIVEHOST_NAMES[@]}"; do
	for t in "${FIVEHOST_NAMES[@]}"; do
		[ "$f" = "$t" ] && continue
		wait_for 10 fh_ping "$f" "$t" || fail "ping $f -> $t (10.1.0.${FH_IDX[$t]}) failed"
		fh_ping "$f" "$t" -s 1472 >/dev/null || fail "ping -s 1472 $f -> $t failed"
	done
done
echo "ping matrix: 20/20 pairs over the bridge, 56 B and 1472 B"
echo "mesh: OK"
