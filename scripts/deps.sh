#!/bin/bash
# Installs the Debian packages vwire needs, only those that are missing.
#   scripts/deps.sh [build] [test] [armel] [fuzz] [bench] [demo] [package] [package-armel]
# build: compiler, meson, libraries.  test: real peers and tools for the net suite
# (prometheus for its promtool, which checks vwirectl metrics).
# armel: cross compiler, qemu-user and the armel libraries.  fuzz: clang and libFuzzer.
# demo: graphviz, which draws scripts/demo's tree.
# package: the Debian package's build and checks (tests/pkg): debhelper, lintian,
# systemd-analyze (in systemd) for the unit, man and groff for the man pages, and what
# sandbox.sh runs vwired under (setpriv, strace, wg). package-armel: with armel and
# package, what dpkg-buildpackage -aarmel needs besides (Debian's cross toolchain set,
# which debhelper's meson cross file generator wants whole, and the armel pkg-config).
set -euo pipefail

want=()
for set in "${@:-build}"; do
	case "$set" in
	build) want+=(gcc pkg-config meson ninja-build libsodium-dev liburing-dev libcmocka-dev python3) ;;
	test) want+=(iproute2 iputils-ping wireguard-tools wireguard-go tshark iperf3 bridge-utils
		procps psmisc util-linux kmod prometheus) ;;
	fuzz) want+=(clang libclang-rt-14-dev) ;;
	armel) want+=(gcc-arm-linux-gnueabi qemu-user-static libsodium-dev:armel liburing-dev:armel
		libcmocka-dev:armel) ;;
	bench) want+=(gnuplot-nox iperf3 linux-perf ethtool) ;;
	demo) want+=(graphviz) ;;
	package) want+=(debhelper dpkg-dev devscripts lintian fakeroot systemd man-db groff-base
		adduser util-linux strace iproute2 wireguard-tools python3) ;;
	package-armel) want+=(crossbuild-essential-armel pkgconf:armel) ;;
	*) echo "deps.sh: unknown package set '$set'" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }

pins=()
if printf '%s\n' "${missing[@]}" | grep -q ':armel$'; then
	dpkg --print-foreign-architectures | grep -qx armel || dpkg --add-architecture armel
	apt_get update >/dev/null
	# Multi-Arch: same packages must have one version on both architectures, and the
	# armel archive lags the security updates: take the armel version for both.
	for p in linux-libc-dev libssl3; do
		v=$(apt-cache madison "$p:armel" | awk -F'|' 'NR==1 {gsub(/ /, "", $2); print $2}')
		[ -n "$v" ] && pins+=("$p=$v" "$p:armel=$v")
	done
else
	apt_get update >/dev/null
fi
echo "deps.sh: installing ${missing[*]}" >&2
apt_get install --no-install-recommends --allow-downgrades "${pins[@]}" "${missing[@]}" >/dev/null
