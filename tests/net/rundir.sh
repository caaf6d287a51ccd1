#!/bin/bash
# SPDX-License-Identifier: MIT
# Files and privileges: what vwired accepts as its run dir, its socket paths and its
# config file (src/daemon/rundir.h has the rules).
#  1. refused, with a message naming the path and what is wrong, before anything is
#     created: a run dir another user owns; a run dir, or its wireguard/ folder,
#     writable by group; a symbolic link planted at the socket path (its target is left
#     untouched) or in place of the vwire/ folder (nothing is created where it points);
#  2. accepted: a sticky world-writable run dir (like /tmp);
#  3. a config file others may read: a warning naming it, and vwired runs; a 0600 one:
#     no warning;
#  4. --user nobody: runs as nobody, and SIGTERM still removes the sockets (a root
#     process removes them); then a second --user start and a root one in the same run
#     dir work; kill -9 of a --user vwired leaves no socket either;
#  5. kill -9 of a root vwired leaves stale sockets: the next start replaces them;
#  6. a second vwired with the same name is refused as "already running" and the first
#     keeps its sockets.
. "$(dirname "$0")/lib.sh"
need_cmd wg
[ "$VWIRE_TEST_IMPL" = vwired ] || skip "vwired-only test"
[ -x "$VWIRED" ] || skip "vwired not built ($VWIRED)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOBODY_UID=$(id -u nobody)

NS=$(netns_add rd)
NAME="rd$TAG"
keygen k1
keygen k2
# nobody must reach nothing in $WORK but what a test gives it.
chmod 711 "$WORK"

# conf FILE MODE: a config with a TUN in $NS and one peer, with the given mode.
conf() {
	{
		echo "[Interface]"
		echo "Name = $NAME"
		echo "PrivateKey = $(key_priv k1)"
		echo "ListenPort = 51870"
		echo "Address = 10.79.0.1/24"
		peer_section k2 10.79.0.2/32 192.168.79.2:51871
	} >"$1"
	chmod "$2" "$1"
}
CONF=$WORK/rd.conf
conf "$CONF" 600

# rundir NAME MODE [OWNER]: a fresh run dir $WORK/NAME with exactly MODE.
rundir() {
	local d=$WORK/$1
	mkdir "$d"
	chmod "$2" "$d"
	[ -z "${3:-}" ] || chown "$3" "$d"
	echo "$d"
}

# refused LABEL TEXT RUNDIR [ARGS...]: vwired -c $CONF --run-dir RUNDIR is refused
# (non-zero exit, at once), its message holds TEXT, and it made no socket and no TUN.
refused() {
	local label=$1 want=$2 rd=$3 rc=0
	shift 3
	in_ns "$NS" timeout 5 "$VWIRED" -c "$CONF" --run-dir "$rd" "$@" >"$WORK/refused.log" 2>&1 || rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] ||
		fail "$label: vwired was not refused (exit $rc): $(tail -n 3 "$WORK/refused.log")"
	grep -qF -- "$want" "$WORK/refused.log" ||
		fail "$label: expected \"$want\" in the message, got: $(cat "$WORK/refused.log")"
	[ -z "$(find "$rd" -type s)" ] || fail "$label: sockets were made: $(find "$rd" -type s)"
	! ip -n "$NS" link show "$NAME" >/dev/null 2>&1 || fail "$label: TUN $NAME is left"
	echo "  ok $label: $(grep -F -- "$want" "$WORK/refused.log" | head -n 1)"
}

# sockets_gone DIR: neither socket of $NAME is in run dir DIR.
sockets_gone() {
	[ ! -e "$1/wireguard/$NAME.sock" ] && [ ! -e "$1/vwire/$NAME.ctl" ]
}

# no_process_left: nothing of vwired's (the --user cleaner included) runs in $NS.
no_process_left() {
	[ -z "$(ip netns pids "$NS")" ]
}

echo "rundir: unsafe run dirs and socket paths are refused"
RD=$(rundir others 700 nobody)
refused "run dir owned by nobody" "unsafe run dir: $RD is owned by uid $NOBODY_UID" "$RD"
RD=$(rundir group 770)
refused "group-writable run dir" "unsafe run dir: $RD is writable by group or others" "$RD"
RD=$(rundir subgroup 700)
mkdir -m 775 "$RD/wireguard"
chmod 775 "$RD/wireguard"
refused "group-writable wireguard/" "unsafe run dir: $RD/wireguard is writable by group or others" "$RD"
RD=$(rundir link 700)
mkdir "$RD/wireguard"
echo "not for vwired" >"$WORK/precious"
ln -s "$WORK/precious" "$RD/wireguard/$NAME.sock"
refused "symbolic link at the socket path" \
	"$RD/wireguard/$NAME.sock is a symbolic link, not a socket" "$RD"
[ -L "$RD/wireguard/$NAME.sock" ] || fail "the symbolic link at the socket path was removed"
[ -f "$WORK/precious" ] && [ "$(cat "$WORK/precious")" = "not for vwired" ] ||
	fail "the link's target $WORK/precious was changed"
echo "  ok the link and its target are left as they were"
RD=$(rundir linkdir 700)
mkdir -m 700 "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$RD/vwire"
refused "symbolic link in place of vwire/" "unsafe run dir: $RD/vwire is a symbolic link" "$RD"
[ -z "$(ls -A "$WORK/elsewhere")" ] || fail "vwired made files through the link: $(ls -A "$WORK/elsewhere")"

echo "rundir: a sticky world-writable run dir (like /tmp) is accepted"
RUN_DIR=$(rundir sticky 1777)
start_vwired "$NS" "$CONF" "$NAME"
stop_node "$NAME"
echo "  ok started and stopped in a mode 1777 run dir"

echo "rundir: config file permissions"
# The start above had the 0600 config.
! grep -q 'readable by' "$WORK/$NAME.log" || fail "a warning for a 0600 config: $(cat "$WORK/$NAME.log")"
echo "  ok no warning for a 0600 config"
RUN_DIR=$(rundir conf 700)
conf "$WORK/open.conf" 644
start_vwired "$NS" "$WORK/open.conf" "$NAME"
grep -qF "warning: $WORK/open.conf is readable by group and others (mode 0644)" "$WORK/$NAME.log" ||
	fail "no warning for a world-readable config: $(cat "$WORK/$NAME.log")"
echo "  ok $(grep -F 'readable by' "$WORK/$NAME.log")"
stop_node "$NAME"
echo "  ok and vwired ran"

echo "rundir: --user nobody"
RUN_DIR=$(rundir user 700)
for round in first second; do
	start_vwired "$NS" "$CONF" "$NAME" --user nobody
	awk '/^Uid:/ { for (i = 2; i <= 5; i++) if ($i != '"$NOBODY_UID"') exit 1 }' \
		"/proc/${NODE_PID[$NAME]}/status" ||
		fail "vwired --user nobody does not run as nobody: $(grep -E '^Uid:' "/proc/${NODE_PID[$NAME]}/status")"
	stop_node "$NAME"
	no_process_left || fail "processes left in $NS after vwired --user exited: $(ip netns pids "$NS")"
	echo "  ok $round --user start: runs as nobody; after SIGTERM both sockets are gone"
done
start_vwired "$NS" "$CONF" "$NAME"
stop_node "$NAME"
echo "  ok then a root start in the same run dir"
start_vwired "$NS" "$CONF" "$NAME" --user nobody
kill -KILL "${NODE_PID[$NAME]}"
wait "${NODE_PID[$NAME]}" 2>/dev/null || true
wait_for 5 sockets_gone "$RUN_DIR" || fail "kill -9 of vwired --user left its sockets behind: $(find "$RUN_DIR" -type s)"
wait_for 5 no_process_left || fail "processes left in $NS after kill -9: $(ip netns pids "$NS")"
echo "  ok kill -9 of a --user vwired: its sockets are removed all the same"

echo "rundir: kill -9, then a restart"
RUN_DIR=$(rundir kill 700)
start_vwired "$NS" "$CONF" "$NAME"
kill -KILL "${NODE_PID[$NAME]}"
wait "${NODE_PID[$NAME]}" 2>/dev/null || true
[ -S "$RUN_DIR/wireguard/$NAME.sock" ] || fail "kill -9 left no stale socket: the restart proves nothing"
wait_for 5 sh -c "! ip -n $NS link show $NAME" || fail "TUN $NAME still there after kill -9"
start_vwired "$NS" "$CONF" "$NAME"
grep -q "removed $RUN_DIR/wireguard/$NAME.sock, a stale socket" "$WORK/$NAME.log" ||
	fail "the restart did not say it replaced the stale socket: $(cat "$WORK/$NAME.log")"
echo "  ok the stale sockets were replaced"

echo "rundir: a second vwired with the same name"
FIRST=${NODE_PID[$NAME]}
refused_live() {
	local rc=0
	in_ns "$NS" timeout 5 "$VWIRED" -c "$CONF" --run-dir "$RUN_DIR" >"$WORK/second.log" 2>&1 || rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "the second vwired was not refused (exit $rc): $(cat "$WORK/second.log")"
	grep -qF "$NAME is already running: $RUN_DIR/wireguard/$NAME.sock accepts connections" "$WORK/second.log" ||
		fail "the second vwired does not say \"already running\": $(cat "$WORK/second.log")"
	echo "  ok $(head -n 1 "$WORK/second.log")"
}
refused_live
kill -0 "$FIRST" || fail "the first vwired is gone"
[ -S "$RUN_DIR/wireguard/$NAME.sock" ] && [ -S "$RUN_DIR/vwire/$NAME.ctl" ] ||
	fail "the second vwired removed the first one's sockets"
"$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME" >/dev/null || fail "the first vwired no longer answers vwirectl"
echo "  ok the first one still runs and answers on its sockets"
stop_node "$NAME"

# A process killed with its io_uring open has its files closed after it is gone: its
# control socket accepted connections for up to 35 ms more, and a restart at once took
# it for a live vwired ("already running"). Killed under io_uring, restarted at once.
echo "rundir: kill -9 and a restart at once, three times (io_uring)"
RUN_DIR=$(rundir again 700)
for round in 1 2 3; do
	VWIRED_IO=uring start_vwired "$NS" "$CONF" "$NAME"
	kill -KILL "${NODE_PID[$NAME]}"
	wait "${NODE_PID[$NAME]}" 2>/dev/null || true
done
VWIRED_IO=uring start_vwired "$NS" "$CONF" "$NAME"
"$VWIRECTL" --run-dir "$RUN_DIR" show "$NAME" >/dev/null || fail "the last restart does not answer vwirectl"
stop_node "$NAME"
echo "  ok each restart took over at once"
echo "rundir: PASS"
