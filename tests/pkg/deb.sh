#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package, built, checked, installed into this machine and purged:
#  - dpkg-buildpackage -b -us -uc from a copy of the tracked files (as they are in the
#    work tree), in a scratch folder; the unit and fuzz suites run in the build;
#  - lintian finds no warning or error;
#  - dpkg -i: vwired and vwirectl print the changelog's version, the man pages are
#    found by man and render without warnings, vwired@.service is in place and passes
#    systemd-analyze verify (and its security score is printed), the vwire user exists
#    without a shell or home, /etc/vwire is root's 0700; tests/pkg/sandbox.sh then runs
#    the installed vwired as vwire with the unit's restrictions;
#  - dpkg -i again, as an upgrade runs the maintainer scripts;
#  - dpkg --purge: none of the package's files, /etc/vwire, nor the vwire user and
#    group are left.
# About a minute on two cores (more when they are busy), most of it the build;
# DEB_BUILD_OPTIONS=nocheck skips the suites. Needs root and scripts/deps.sh build
# package; exits 77 without them, and refuses to run when a vwire package or user exists.
# With --arch armel it cross-builds instead (dpkg-buildpackage -aarmel, tests left to
# scripts/check's cross suite), runs lintian, and runs the unpacked vwired and vwirectl
# under qemu-arm (the package cannot be installed on this machine): about a minute more,
# after scripts/deps.sh armel package package-armel.
#   tests/pkg/deb.sh [--keep DIR] [--arch armel]   (--keep: leave the .debs and logs in DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
keep=
host=$(dpkg --print-architecture)
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=${2:?--keep needs a folder}; shift 2 ;;
	--arch) host=${2:?--arch needs an architecture}; shift 2 ;;
	*) echo "usage: $0 [--keep DIR] [--arch armel]" >&2; exit 2 ;;
	esac
done

skip() {
	echo "deb: SKIP: $*" >&2
	exit 77
}

fail() {
	echo "deb: FAIL: $*" >&2
	exit 1
}

for t in dpkg-buildpackage dh lintian systemd-analyze man adduser; do
	command -v "$t" >/dev/null || skip "needs $t: scripts/deps.sh build package"
done
cross=false
if [ "$host" != "$(dpkg --print-architecture)" ]; then
	cross=true
	[ "$host" = armel ] || skip "cross builds here are for armel only"
	for t in arm-linux-gnueabi-gcc arm-linux-gnueabi-g++ arm-linux-gnueabi-pkg-config \
		qemu-arm-static; do
		command -v "$t" >/dev/null ||
			skip "needs $t: scripts/deps.sh armel package package-armel"
	done
fi
$cross || [ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
if ! $cross && dpkg-query -W -f='${Status}' vwire 2>/dev/null | grep -q 'installed'; then
	fail "a vwire package is installed already: this test installs and purges its own"
fi
$cross || ! getent passwd vwire >/dev/null ||
	fail "a vwire user exists already: the package makes its own"

work=$(mktemp -d /tmp/vwire-deb.XXXXXX)
installed=false
cleanup() {
	if $installed; then
		echo "deb: purging the package after a failure" >&2
		dpkg --purge vwire >/dev/null 2>&1 || true
	fi
	if [ -n "$keep" ]; then
		mkdir -p "$keep"
		cp "$work"/*.deb "$work"/*.log "$keep"/ 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
arch=$host
src=$work/vwire-$version
mkdir "$src"
(cd "$here" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$src"

echo "deb: building vwire $version for $arch in $src"
start=$(date +%s)
build=(dpkg-buildpackage -b -us -uc)
# debian/rules runs no tests in a cross build; saying so up front keeps dh quiet.
if $cross; then
	build+=("-a$host" "-Pcross,nocheck")
	export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
fi
if ! (cd "$src" && nice -n 10 "${build[@]}") >"$work/build.log" 2>&1; then
	tail -50 "$work/build.log"
	fail "dpkg-buildpackage failed"
fi
echo "deb: built in $(($(date +%s) - start)) s"
deb=$work/vwire_${version}_$arch.deb
[ -f "$deb" ] || fail "no $deb"
dpkg-deb -c "$deb"

echo "deb: lintian"
lintian --fail-on warning,error --display-info "$work"/vwire_"${version}"_"$arch".changes |
	tee "$work/lintian.log" || fail "lintian"

if $cross; then
	root=$work/root
	dpkg-deb -x "$deb" "$root"
	run() { qemu-arm-static -L /usr/arm-linux-gnueabi "$@"; }
	[ "$(run "$root/usr/sbin/vwired" --version)" = "vwired $version" ] || fail "vwired --version"
	[ "$(run "$root/usr/bin/vwirectl" --version)" = "vwirectl $version" ] || fail "vwirectl --version"
	key=$(run "$root/usr/bin/vwirectl" genkey)
	[ "$(echo "$key" | run "$root/usr/bin/vwirectl" pubkey | wc -c)" = 45 ] || fail "vwirectl pubkey"
	for f in usr/share/man/man8/vwired.8.gz usr/share/man/man8/vwirectl.8.gz \
		usr/share/man/man5/vwired.conf.5.gz lib/systemd/system/vwired@.service \
		usr/share/doc/vwire/examples/wg0.conf; do
		[ -f "$root/$f" ] || fail "no /$f in the $host package"
	done
	echo "deb: OK (vwire $version, $host: built, lintian clean, runs under qemu-arm, $(($(date +%s) - start)) s)"
	exit 0
fi

# What the package ships, to look for after the purge.
files=$(dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | sed 's|/$||' | grep -v '^$' || true)

installed=true
dpkg -i "$deb" || fail "dpkg -i"

echo "deb: installed files"
[ "$(vwired --version)" = "vwired $version" ] || fail "vwired --version: $(vwired --version)"
[ "$(vwirectl --version)" = "vwirectl $version" ] || fail "vwirectl --version"
[ "$(command -v vwired)" = /usr/sbin/vwired ] || fail "vwired is not /usr/sbin/vwired"
[ "$(command -v vwirectl)" = /usr/bin/vwirectl ] || fail "vwirectl is not /usr/bin/vwirectl"
for page in vwired.8 vwirectl.8 vwired.conf.5; do
	sec=${page##*.}
	path=$(man -w "$sec" "${page%.*}") || fail "man does not find ${page%.*}($sec)"
	echo "  $path"
	warn=$(MANWIDTH=80 man --warnings "$sec" "${page%.*}" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man ${page%.*}($sec) warns: $warn"
	MANWIDTH=80 man "$sec" "${page%.*}" 2>/dev/null | grep -q "vwire $version" ||
		fail "${page%.*}($sec) does not show version $version"
done
for f in /usr/share/doc/vwire/examples/wg0.conf /usr/share/doc/vwire/examples/bridged.conf \
	/usr/share/doc/vwire/copyright /usr/share/doc/vwire/changelog.gz; do
	[ -f "$f" ] || fail "no $f"
done
unit=/lib/systemd/system/vwired@.service
[ -f "$unit" ] || fail "no $unit"
grep -q '^ExecStart=/usr/sbin/vwired -c %d/%i.conf' "$unit" || fail "ExecStart is not /usr/sbin/vwired"
grep -q '^LoadCredential=%i.conf:/etc/vwire/%i.conf$' "$unit" || fail "the unit does not read /etc/vwire"
grep -q '^ExecReload=+/usr/bin/vwirectl --run-dir /run reload %i /etc/vwire/%i.conf$' "$unit" ||
	fail "the unit's ExecReload does not hand vwired /etc/vwire/%i.conf"
echo "deb: systemd-analyze verify vwired@wg0.service"
systemd-analyze verify --man=yes vwired@wg0.service 2>&1 | tee "$work/verify.log"
[ -s "$work/verify.log" ] && fail "systemd-analyze verify complains"
score=$(systemd-analyze security --offline=true "$unit" 2>&1 | grep 'Overall exposure level') ||
	fail "no systemd-analyze security score"
echo "deb: ${score#→ }"

entry=$(getent passwd vwire) || fail "no vwire user"
IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
[ "$uid" -lt 1000 ] || fail "vwire is not a system user (uid $uid)"
[ "$home" = /nonexistent ] || fail "vwire's home is $home"
case $shell in */nologin | */false) ;; *) fail "vwire has a shell: $shell" ;; esac
[ "$(getent group vwire | cut -d: -f3)" = "$gid" ] || fail "vwire's group is not vwire"
[ "$(stat -c '%U %a' /etc/vwire)" = "root 700" ] || fail "/etc/vwire is not root's 0700"

echo "deb: the installed vwired under the unit's restrictions"
VWIRE_UNIT=$unit "$here/tests/pkg/sandbox.sh" /usr/sbin/vwired /usr/bin/vwirectl vwire >"$work/sandbox.log" 2>&1 ||
	{
		cat "$work/sandbox.log"
		fail "tests/pkg/sandbox.sh"
	}
tail -3 "$work/sandbox.log"

echo "deb: dpkg -i again (the upgrade path of the maintainer scripts)"
dpkg -i "$deb" >/dev/null || fail "dpkg -i over itself"
getent passwd vwire >/dev/null || fail "no vwire user after the reinstall"

echo "deb: dpkg --purge"
dpkg --purge vwire || fail "dpkg --purge"
installed=false
dpkg-query -W -f='${Status}' vwire 2>/dev/null | grep -q 'installed' && fail "vwire is still installed"
# Folders other packages own too (/usr/share/man/man8) stay, and are theirs.
left=
for f in $files; do
	[ -e "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1 && left="$left $f"
done
[ -z "$left" ] || fail "left after the purge:$left"
getent passwd vwire >/dev/null && fail "the vwire user is left"
getent group vwire >/dev/null && fail "the vwire group is left"
for f in /var/lib/systemd/deb-systemd-helper-enabled/*vwired*; do
	[ -e "$f" ] && fail "systemd helper state is left: $f"
done
echo "deb: OK (vwire $version, $arch, $(($(date +%s) - start)) s)"
