#!/bin/sh
# run-fuzz.sh MODE TARGET SEEDS WORKDIR
# libfuzzer: fuzz for FUZZ_SECONDS (default 20) starting from the seeds; new
#            inputs go to WORKDIR so the committed corpus is never modified.
# replay:    feed every seed to the target once.
set -eu
mode=$1 target=$2 seeds=$3 work=$4
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "no seed corpus in $seeds" >&2; exit 1; }
case "$mode" in
libfuzzer)
	mkdir -p "$work"
	# libFuzzer's own exit code for a crash is 77, which meson reads as "skipped".
	exec "$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=1024 \
		-error_exitcode=1 -timeout_exitcode=1 \
		-print_final_stats=1 -artifact_prefix="$work/" "$work" "$seeds"
	;;
replay)
	exec "$target" "$seeds"/*
	;;
*)
	echo "run-fuzz.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
