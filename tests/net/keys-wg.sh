#!/bin/bash
# vwirectl genkey/pubkey/genpsk against Debian's wireguard-tools: byte-identical
# public keys for many random private keys, the same verdict on malformed input.
set -euo pipefail
command -v wg >/dev/null || { echo "wg (wireguard-tools) not installed"; exit 77; }
ctl="$VWIRE_BUILD/vwirectl"
fail=0

for i in $(seq 300); do
	if [ $((i % 2)) -eq 0 ]; then k=$(wg genkey); else k=$("$ctl" genkey); fi
	a=$(printf '%s\n' "$k" | wg pubkey)
	b=$(printf '%s\n' "$k" | "$ctl" pubkey)
	if [ "$a" != "$b" ]; then
		echo "pubkey differs for $k: wg=$a vwirectl=$b"
		fail=1
	fi
done

# Keys wg accepts unclamped (genpsk output used as a private key) must match too.
for i in $(seq 50); do
	k=$("$ctl" genpsk)
	[ "$(echo "$k" | wg pubkey)" = "$(echo "$k" | "$ctl" pubkey)" ] || { echo "differs: $k"; fail=1; }
done

# Output format: 44 characters of base64 and a newline, nothing else.
for cmd in genkey genpsk; do
	out=$("$ctl" $cmd | od -An -c | tr -d ' \n')
	len=$("$ctl" $cmd | wc -c)
	[ "$len" -eq 45 ] || { echo "$cmd printed $len bytes"; fail=1; }
	case "$out" in *=\\n) ;; *) echo "$cmd output does not end in '=\\n': $out"; fail=1 ;; esac
done

good=$(wg genkey)
bad_inputs=(
	""
	"abc"
	"${good%=}"
	"${good%=}A"
	"${good}x"
	"${good} junk"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?="
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-="
	"$(printf '%s' "$good" | tr 'A-Za-z' 'a-zA-Z')"
	"   $good"
	"$good   "
	"$good"$'\n\n\n'
)
for input in "${bad_inputs[@]}"; do
	set +e
	wout=$(printf '%s' "$input" | wg pubkey 2>/dev/null)
	wrc=$?
	vout=$(printf '%s' "$input" | "$ctl" pubkey 2>/tmp/vwire-keys-err.$$)
	vrc=$?
	set -e
	if [ "$wrc" -ne "$vrc" ] || [ "$wout" != "$vout" ]; then
		echo "input '$input': wg exit $wrc '$wout', vwirectl exit $vrc '$vout'"
		fail=1
	fi
	if [ "$vrc" -ne 0 ] && ! grep -q "Key is not the correct length or format\|Trailing characters" /tmp/vwire-keys-err.$$; then
		echo "input '$input': unclear error: $(cat /tmp/vwire-keys-err.$$)"
		fail=1
	fi
done
rm -f /tmp/vwire-keys-err.$$

# Argument errors exit 1 as wg's do.
"$ctl" genkey extra >/dev/null 2>&1 && { echo "genkey accepted an argument"; fail=1; }
"$ctl" pubkey extra </dev/null >/dev/null 2>&1 && { echo "pubkey accepted an argument"; fail=1; }

[ $fail -eq 0 ] && echo "keys-wg: vwirectl matches wg"
exit $fail
