#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad config files: for each file of a table, vwired
# exits non-zero within 5 s, its stderr names the file, the line (where there
# is one) and the key, and nothing is left behind: no TUN in its namespace, no
# socket in its run dir. A good file differing from each bad one in one place
# starts, so each failure is the bad line's doing. Bad command lines too.
. "$(dirname "$0")/lib.sh"
# `edit ... | bad ...`: bad runs in this shell, so its counts survive.
shopt -s lastpipe
need_cmd wg
[ "$VWIRE_TEST_IMPL" = vwired ] || skip "vwired-only test"
[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"

NS=$(netns_add cfg)
RUN_DIR=$WORK/run
mkdir -p "$RUN_DIR"
keygen k1
keygen k2
NAME="c$TAG"
PRIV=$(key_priv k1) PUB=$(key_pub k2) PUB_SELF=$(key_pub k1)
mkdir "$WORK/configs"
failures=0
cases=0

# The good file; bad ones are written as variations of it (line numbers in
# the table refer to the bad file).
good() {
	cat <<-EOF2
	[Interface]
	Name = $NAME
	PrivateKey = $PRIV
	ListenPort = 51860
	Address = 10.78.0.1/24
	MTU = 1420

	[Peer]
	PublicKey = $PUB
	AllowedIPs = 10.78.0.2/32
	Endpoint = 192.168.78.2:51861
	EOF2
}

# leftovers: prints what a failed start left behind.
leftovers() {
	ip -n "$NS" -o link show | awk -F': ' '$2 != "lo" { print "link " $2 }'
	find "$RUN_DIR" -mindepth 1 \( -type s -o -type f \) -printf 'file %p\n'
}

# bad NAME LINE KEY: the config text on stdin must be refused; LINE is a
# regular expression for the line number (empty: none expected), KEY an
# extended regular expression the message must contain.
bad() {
	local name=$1 line=$2 key=$3 f="$WORK/configs/$1.conf" rc=0 t0 dt msg ok=1 why=""
	cat >"$f"
	cases=$((cases + 1))
	t0=$(date +%s%N)
	in_ns "$NS" timeout 10 "$VWIRED" -c "$f" --run-dir "$RUN_DIR" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	dt=$((($(date +%s%N) - t0) / 1000000))
	msg=$(head -n 3 "$WORK/err.txt")
	if [ $rc -eq 0 ]; then ok=0 why="exit status 0"; fi
	if [ $rc -eq 124 ]; then ok=0 why="still running after 10 s"; fi
	if [ $dt -gt 5000 ]; then ok=0 why="$why took ${dt} ms"; fi
	grep -qF -- "$f" "$WORK/err.txt" || { ok=0; why="$why; file name missing"; }
	if [ -n "$line" ]; then
		grep -qE -- "$f:($line)\b" "$WORK/err.txt" || { ok=0; why="$why; no $f:$line"; }
	fi
	grep -qE -- "$key" "$WORK/err.txt" || { ok=0; why="$why; key /$key/ not named"; }
	local left
	left=$(leftovers)
	if [ -n "$left" ]; then
		ok=0 why="$why; left behind: $(echo $left)"
		ip -n "$NS" -o link show | awk -F': ' '$2 != "lo" { print $2 }' | cut -d@ -f1 |
			xargs -r -n1 ip -n "$NS" link del 2>/dev/null || true
		find "$RUN_DIR" -mindepth 1 \( -type s -o -type f \) -delete
	fi
	if [ $ok -eq 1 ]; then
		printf '  ok   %-22s exit %d in %4d ms: %s\n' "$name" $rc $dt "$(head -n 1 "$WORK/err.txt")"
	else
		printf '  FAIL %-22s exit %d in %4d ms:%s\n       stderr: %s\n' "$name" $rc $dt "$why" "$msg"
		failures=$((failures + 1))
	fi
}

# The control: the good file starts (then stops cleanly).
good >"$WORK/configs/good.conf"
start_vwired "$NS" "$WORK/configs/good.conf" "$NAME"
stop_node "$NAME"
[ -z "$(leftovers)" ] || fail "the good config left things behind: $(leftovers)"
echo "  ok   good file: vwired starts, sockets appear, SIGTERM exits 0 and removes them"

# Replace line N of the good file with TEXT (or insert it before N with +N, drop it with -N).
edit() {
	local op=$1 text=${2:-}
	case "$op" in
	+*) good | awk -v n="${op#+}" -v t="$text" 'NR == n { print t } { print } END { if (n > NR) print t }' ;;
	-*) good | awk -v n="${op#-}" 'NR != n' ;;
	*) good | awk -v n="$op" -v t="$text" 'NR == n { print t; next } { print }' ;;
	esac
}

echo "config-errors: bad files"
edit +4 "Foo = bar" | bad unknown-key 4 'Foo'
edit +9 "Frobnicate = 1" | bad unknown-key-peer 9 'Frobnicate'
edit 8 "[Tunnel]" | bad unknown-section 8 'Tunnel'
edit 3 "PrivateKey = not-base64!" | bad bad-base64-private 3 'PrivateKey'
edit 9 "PublicKey = ${PUB%=}" | bad short-public-key 9 'PublicKey'
edit 9 "PublicKey = ${PUB%?=}@=" | bad bad-char-public-key 9 'PublicKey'
edit -3 | bad missing-privatekey "" 'PrivateKey'
edit 10 "AllowedIPs = 10.78.0.300/32" | bad bad-allowedips 10 'AllowedIPs'
edit 10 "AllowedIPs = 10.78.0.2/33" | bad allowedips-prefix 10 'AllowedIPs'
edit 10 "AllowedIPs = fd00::2/129" | bad allowedips-prefix6 10 'AllowedIPs'
edit 4 "ListenPort = 70000" | bad listenport-range 4 'ListenPort'
edit 4 "ListenPort = -1" | bad listenport-negative 4 'ListenPort'
edit 11 "Endpoint = 192.168.78.2:65536" | bad endpoint-port-range 11 'Endpoint'
edit 11 "Endpoint = 192.168.78.2" | bad endpoint-no-port 11 'Endpoint'
edit 11 "Endpoint = [fd10::2:51861" | bad endpoint-bad-v6 11 'Endpoint'
{ good; echo; echo "[Peer]"; echo "PublicKey = $PUB"; echo "AllowedIPs = 10.78.0.3/32"; } |
	bad duplicate-peer '13|14' 'PublicKey|Peer'
{ good; echo; echo "[Peer]"; echo "AllowedIPs = 10.78.0.3/32"; } |
	bad peer-without-key '13|14' 'PublicKey'
{ good; printf '\n[Bridge]\nName = br%s\n\n[Wire]\nName = bob\nRemote = 10.99.0.4\nVNI = 2\n' "$TAG"; } |
	bad wire-remote-unrouted '16|18' 'Remote'
edit 6 "MTU = 100" | bad mtu-too-small 6 'MTU'
edit 6 "MTU = 70000" | bad mtu-too-big 6 'MTU'
edit 6 "MTU = abc" | bad mtu-not-number 6 'MTU'
edit +7 "PostUp = echo hi" | bad wg-quick-postup 7 'PostUp'
edit +7 "DNS = 1.1.1.1" | bad wg-quick-dns 7 'DNS'
edit +7 "SaveConfig = true" | bad wg-quick-saveconfig 7 'SaveConfig'
edit +7 "Table = off" | bad wg-quick-table 7 'Table'
edit 2 "Name = abcdefghijklmnop" | bad name-too-long 2 'Name'
edit 2 "Name = ../etc" | bad name-with-slash 2 'Name'
edit 5 "Address = 10.78.0.1/40" | bad bad-address 5 'Address'
edit +6 "Tun = maybe" | bad tun-not-bool 6 'Tun'
edit +12 "PersistentKeepalive = 70000" | bad keepalive-range 12 'PersistentKeepalive'
edit +12 "PresharedKey = AAAA" | bad bad-psk 12 'PresharedKey'
edit 4 "ListenPort" | bad no-equals-sign 4 'ListenPort'
{ echo "ListenPort = 1"; good; } | bad key-before-section 1 'ListenPort'
{ good; echo "[Interface]"; echo "ListenPort = 2"; } | bad interface-twice 12 'Interface'
edit 3 "PrivateKey = $PRIV $PRIV" | bad trailing-junk 3 'PrivateKey'
bad empty-file "" 'PrivateKey|Interface' </dev/null

echo "config-errors: command lines"
# cli LABEL ARGS...: refused quickly, non-zero, nothing left behind.
cli() {
	local label=$1 rc=0
	shift
	cases=$((cases + 1))
	in_ns "$NS" timeout 10 "$VWIRED" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ -s "$WORK/err.txt" ] && [ -z "$(leftovers)" ]; then
		printf '  ok   %-22s exit %d: %s\n' "$label" $rc "$(head -n 1 "$WORK/err.txt")"
	else
		printf '  FAIL %-22s exit %d, stderr: %s; left: %s\n' "$label" $rc "$(head -n 2 "$WORK/err.txt")" "$(leftovers)"
		failures=$((failures + 1))
	fi
}
cli missing-file -c "$WORK/configs/does-not-exist.conf" --run-dir "$RUN_DIR"
grep -qF "$WORK/configs/does-not-exist.conf" "$WORK/err.txt" || { echo "  FAIL missing-file: file not named"; failures=$((failures + 1)); }
cli no-arguments
cli bad-io -c "$WORK/configs/good.conf" --io bogus --run-dir "$RUN_DIR"
cli unknown-option -c "$WORK/configs/good.conf" --frobnicate --run-dir "$RUN_DIR"
cli bad-user -c "$WORK/configs/good.conf" --user no-such-user-$TAG --run-dir "$RUN_DIR"

echo "config-errors: $((cases - failures))/$cases refused as they should be"
[ $failures -eq 0 ] || fail "$failures case(s) not handled as expected (see above)"
echo "config-errors: PASS"
