#!/bin/bash
# SPDX-License-Identifier: MIT
# vwired as vwired@.service runs it, as far as a machine without systemd as PID 1 can
# show it: in a network namespace and a private mount namespace, as an unprivileged user
# (the package's vwire, else nobody) whose only capability is CAP_NET_ADMIN (ambient, and
# the whole bounding set), with no new privileges, umask 077, a read-only root, private
# /tmp, empty /home and /root, /run a tmpfs holding what systemd would make there
# (RuntimeDirectory= wireguard/ and vwire/ owned by the user, the LoadCredential= copy of
# the config), and /dev/net/tun mode 0666 as Debian's udev rule makes it. vwired creates
# its TUN, bridge TAP and a wire itself and must:
#  - send READY=1 to an abstract $NOTIFY_SOCKET, then answer wg and vwirectl on the
#    sockets in /run, on io_uring, with CAP_NET_ADMIN its only effective capability;
#  - stop on SIGTERM with status 0, send STOPPING=1 and remove its sockets and devices;
#  - make only system calls the unit's SystemCallFilter= allows and open only sockets
#    of RestrictAddressFamilies= (strace of the whole run against systemd-analyze's
#    expansion of the filter).
# What it cannot show: systemd's own seccomp filter, device cgroup and ProtectKernel*
# mounts in force (that needs systemd as PID 1).
#   tests/pkg/sandbox.sh [VWIRED [VWIRECTL [USER]]]
# Defaults: the build's binaries ($VWIRE_BUILD, else build/) or the installed ones.
# Needs root, /dev/net/tun, strace, setpriv, wg and systemd-analyze; else exits 77.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
unit=${VWIRE_UNIT:-}

skip() {
	echo "sandbox: SKIP: $*" >&2
	exit 77
}

fail() {
	echo "sandbox: FAIL: $*" >&2
	exit 1
}

# The namespaces' side, as root: build what systemd would, then run vwired in it.
inside() {
	local vwired=$1 vwirectl=$2 user=$3 name=$4 bridge=$5 out=$6
	local group cred pid sock d
	group=$(id -gn "$user")

	# Everything written for the outside goes through $out, bound before / turns read-only.
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir /run/out
	mount --bind "$out" /run/out
	install -d -o "$user" -g "$group" -m 0755 /run/wireguard /run/vwire
	cred=/run/credentials/vwired@$name.service
	install -d -m 0755 /run/credentials
	install -d -o "$user" -g "$group" -m 0500 "$cred"
	install -o "$user" -g "$group" -m 0400 "$out/$name.conf" "$cred/$name.conf"
	mknod -m 0666 /run/tun c 10 200
	mount --bind /run/tun /dev/net/tun
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /home
	mount -t tmpfs tmpfs /root
	# ProtectSystem=strict: all read-only but the RuntimeDirectory= folders.
	for d in /run/wireguard /run/vwire; do
		mount --bind "$d" "$d"
	done
	mount -o remount,bind,ro /run
	mount -o remount,bind,ro /

	/usr/bin/python3 - "@vwire-sandbox-$name" /run/out/notify <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1][1:])
s.settimeout(60)
open(sys.argv[2] + ".bound", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        msg = s.recv(4096).decode()
        f.write(msg + "\n")
        f.flush()
        if "STOPPING=1" in msg.split("\n"):
            break
PY
	for _ in $(seq 100); do
		[ -e /run/out/notify.bound ] && break
		sleep 0.1
	done

	umask 077
	strace -f -qq -o /run/out/strace -- \
		setpriv --reuid="$user" --regid="$group" --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin --no-new-privs -- \
		env -i NOTIFY_SOCKET="@vwire-sandbox-$name" \
		CREDENTIALS_DIRECTORY="$cred" \
		"$vwired" -c "$cred/$name.conf" --run-dir /run --workers 2 \
		2>/run/out/vwired.log &
	local tracer=$!

	for _ in $(seq 200); do
		grep -qx 'READY=1' /run/out/notify 2>/dev/null && break
		kill -0 "$tracer" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -qx 'READY=1' /run/out/notify 2>/dev/null; then
		pkill -TERM -P "$tracer" || true
		wait || true
		cat /run/out/vwired.log >&2
		return 10
	fi
	pid=$(pgrep -P "$tracer")

	{
		echo "status:"
		grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' \
			"/proc/$pid/status"
		echo "links:"
		ip -o link show
		echo "sockets:"
		for sock in /run/wireguard/"$name".sock /run/vwire/"$name".ctl \
			/run/vwire/"$bridge".bridge; do
			stat -c '%n %U %a %F' "$sock"
		done
		echo "wg:"
		wg show "$name"
		echo "vwirectl:"
		"$vwirectl" show "$name"
		"$vwirectl" showstp "$bridge"
	} >/run/out/checks 2>&1 || true

	kill -TERM "$pid"
	local rc=0
	wait "$tracer" || rc=$?
	echo "exit: $rc" >>/run/out/checks
	{
		echo "after:"
		ls -A /run/wireguard /run/vwire
		ip -o link show
	} >>/run/out/checks 2>&1
	wait || true
	return 0
}

if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
	exit
fi

[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
for t in strace setpriv wg systemd-analyze ip; do
	command -v "$t" >/dev/null || skip "needs $t"
done

build=${VWIRE_BUILD:-$here/build}
vwired=${1:-}
vwirectl=${2:-}
if [ -z "$vwired" ]; then
	vwired=$build/vwired
	[ -x "$vwired" ] || vwired=$(command -v vwired || true)
fi
if [ -z "$vwirectl" ]; then
	vwirectl=$(dirname "$vwired")/vwirectl
	[ -x "$vwirectl" ] || vwirectl=$(command -v vwirectl || true)
fi
if [ ! -x "$vwired" ] || [ ! -x "$vwirectl" ]; then
	skip "no vwired and vwirectl (build them)"
fi
user=${3:-}
if [ -z "$user" ]; then
	user=nobody
	getent passwd vwire >/dev/null && user=vwire
fi
if [ -z "$unit" ]; then
	for u in "$build/systemd/vwired@.service" /lib/systemd/system/vwired@.service; do
		[ -f "$u" ] && unit=$u && break
	done
fi
[ -f "$unit" ] || skip "no vwired@.service (build it, or set VWIRE_UNIT)"

tag=$(printf '%04x' $((RANDOM % 65536)))
name=vwsb$tag
bridge=vwsbbr$tag
ns=vwire-sandbox-$tag
out=$(mktemp -d /tmp/vwire-sandbox.XXXXXX)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT

priv=$("$vwirectl" genkey)
peer=$("$vwirectl" genkey | "$vwirectl" pubkey)
cat >"$out/$name.conf" <<EOF
[Interface]
PrivateKey = $priv
ListenPort = 51820
Address = 10.77.0.1/24

[Peer]
PublicKey = $peer
AllowedIPs = 10.77.0.2/32
Endpoint = 192.0.2.1:51820

[Bridge]
Name = $bridge
Address = 10.78.0.1/24

[Wire]
Name = vwsbw$tag
Remote = 10.77.0.2
VNI = 7
EOF

ip netns add "$ns"
ip netns exec "$ns" unshare -m --propagation private \
	"$0" --inside "$vwired" "$vwirectl" "$user" "$name" "$bridge" "$out" ||
	fail "vwired did not report ready (its log is above)"

checks=$out/checks
cat "$checks"
echo "vwired's log:"
cat "$out/vwired.log"
echo "notify:"
cat "$out/notify"

uid=$(id -u "$user")
grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$checks" || fail "vwired does not run as $user"
# CAP_NET_ADMIN is bit 12.
for c in CapPrm CapEff CapBnd CapAmb; do
	grep -Eq "^$c:\s+0000000000001000$" "$checks" || fail "$c is not CAP_NET_ADMIN alone"
done
grep -Eq '^NoNewPrivs:\s+1$' "$checks" || fail "no NoNewPrivs"
grep -q "^[0-9]*: $name: .*UP" "$checks" || fail "no TUN $name up"
grep -q "^[0-9]*: $bridge: .*UP" "$checks" || fail "no TAP $bridge up"
for s in "/run/wireguard/$name.sock" "/run/vwire/$name.ctl" "/run/vwire/$bridge.bridge"; do
	grep -q "^$s $user 600 socket$" "$checks" || fail "$s is not a 0600 socket of $user"
done
grep -q 'listening port: 51820' "$checks" || fail "wg show did not answer"
grep -q "io: io_uring" "$checks" || fail "not on io_uring (vwirectl show: io)"
grep -q "bridge id" "$checks" || fail "vwirectl showstp did not answer"
grep -qx 'exit: 0' "$checks" || fail "vwired did not exit 0 on SIGTERM"
grep -qx 'STOPPING=1' "$out/notify" || fail "no STOPPING=1"
sed -n '/^after:/,$p' "$checks" | grep -q "$name\|$bridge\|vwsbw$tag" &&
	fail "a socket or device is left after the stop"

# The system calls vwired made (after its exec) against the unit's SystemCallFilter=.
syscall_group() {
	local g
	systemd-analyze syscall-filter --no-pager "$1" 2>/dev/null |
		sed -n '2,$p' | sed 's/^ *//' | grep -v '^#' | grep -v '^$' |
		while read -r g; do
			case $g in
			@*) syscall_group "$g" ;;
			*) echo "$g" ;;
			esac
		done
}
filter_allowed() {
	local allow=() deny=() line w
	while read -r line; do
		line=${line#SystemCallFilter=}
		if [ "${line:0:1}" = "~" ]; then
			for w in ${line:1}; do deny+=("$w"); done
		else
			for w in $line; do allow+=("$w"); done
		fi
	done < <(grep '^SystemCallFilter=' "$unit")
	comm -23 <(for w in "${allow[@]}"; do
		case $w in @*) syscall_group "$w" ;; *) echo "$w" ;; esac
	done | sort -u) <(for w in "${deny[@]}"; do
		case $w in @*) syscall_group "$w" ;; *) echo "$w" ;; esac
	done | sort -u)
}
allowed=$out/allowed
filter_allowed >"$allowed"
used=$out/used
awk -v bin="$vwired" '
	!seen && index($0, "execve(\"" bin "\"") && / = 0$/ { seen = 1; next }
	!seen { next }
	match($0, /^[0-9]+ +[a-z0-9_]+\(/) { s = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", s); print s }
	match($0, /<\.\.\. [a-z0-9_]+ resumed>/) { s = substr($0, RSTART + 5, RLENGTH - 14); print s }
' "$out/strace" | sort -u >"$used"
[ -s "$used" ] || fail "strace saw no system call of vwired"
echo "system calls: $(tr '\n' ' ' <"$used")"
refused=$(comm -23 "$used" "$allowed")
echo "system calls: $(wc -l <"$used") used, all in SystemCallFilter= unless listed: ${refused:-none}"
[ -z "$refused" ] || fail "SystemCallFilter= would refuse: $refused"
for s in io_uring_setup io_uring_enter; do
	grep -qx "$s" "$used" || fail "vwired made no $s"
done
families=$(grep -oE '(socket|socketpair)\(AF_[A-Z0-9]+' "$out/strace" | sed 's/.*(//' | sort -u)
echo "address families: $(echo "$families" | tr '\n' ' ')"
for f in $families; do
	case $f in
	AF_UNIX | AF_NETLINK | AF_INET | AF_INET6) ;;
	*) fail "RestrictAddressFamilies= would refuse $f" ;;
	esac
done
echo "sandbox: OK ($user, CAP_NET_ADMIN only, $vwired)"
