#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan) in
# build-fuzz/ and runs each for N seconds on a scratch copy of its seed
# corpus (tests/fuzz/corpus/NAME/, left as it is). Prints one line per
# fuzzer, or with --json one document:
#   {"fuzzers": [{"name": .., "execs": .., "crashes": .., "seconds": ..}]}
# Exits 1 when any fuzzer found a crash, leak or timeout (kept under
# build-fuzz/artifacts/NAME/ with the command that reproduces it).
#
#   scripts/fuzz.sh [--seconds N] [--json] [--only NAME] [--jobs J]
#   scripts/fuzz.sh --minimise      # merge what a run found into the seeds
#
# --jobs J runs J processes per fuzzer (libFuzzer's -fork), for long runs.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10 json=0 only="" jobs=1 minimise=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?}; shift 2 ;;
	--json) json=1; shift ;;
	--only) only=${2:?}; shift 2 ;;
	--jobs) jobs=${2:?}; shift 2 ;;
	--minimise) minimise=1; shift ;;
	*) echo "usage: scripts/fuzz.sh [--seconds N] [--json] [--only NAME] [--jobs J] [--minimise]" >&2
	   exit 2 ;;
	esac
done
case $seconds in ''|*[!0-9]*) echo "fuzz.sh: --seconds takes a whole number" >&2; exit 2 ;; esac
case $jobs in ''|*[!0-9]*|0) echo "fuzz.sh: --jobs takes a whole number from 1" >&2; exit 2 ;; esac

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=enabled -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" >/dev/null

names=()
for exe in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$exe" ] && [ -f "$exe" ] || continue
	n=${exe##*/fuzz_}
	[ -z "$only" ] || [ "$only" = "$n" ] || continue
	names+=("$n")
done
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzzer${only:+ named $only} in $build/tests/fuzz" >&2
	exit 2
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
scratch=$(mktemp -d /tmp/sluice-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
status=0 rows=()
for n in "${names[@]}"; do
	seeds=tests/fuzz/corpus/$n
	work=$scratch/$n
	art=$build/artifacts/$n
	mkdir -p "$work" "$art"
	if [ $minimise -eq 1 ]; then
		# Whatever earlier runs left in the artifacts' corpus, merged
		# with the seeds into the smallest set that keeps the coverage.
		mkdir -p "$build/found/$n"
		"$build/tests/fuzz/fuzz_$n" -merge=1 "$work" "$seeds" "$build/found/$n" \
			>"$scratch/$n.log" 2>&1
		rm -f "$seeds"/*
		cp "$work"/* "$seeds"/
		echo "$n: $(ls "$seeds" | wc -l) seeds"
		continue
	fi
	before=$(find "$art" -type f | wc -l)
	set +e
	args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096
	      -artifact_prefix="$art/")
	[ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=0)
	"$build/tests/fuzz/fuzz_$n" "${args[@]}" "$work" "$seeds" >"$scratch/$n.log" 2>&1
	rc=$?
	set -e
	# Keep what this run found, for --minimise.
	mkdir -p "$build/found/$n"
	cp -n "$work"/* "$build/found/$n"/ 2>/dev/null || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$n.log" | tail -1)
	if [ -z "$execs" ]; then # -fork prints its own totals
		execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$scratch/$n.log" | tail -1)
	fi
	crashes=$(( $(find "$art" -type f | wc -l) - before ))
	if [ $rc -ne 0 ] && [ $crashes -eq 0 ]; then
		crashes=1 # died without an artifact (e.g. in its initialisation)
	fi
	if [ $crashes -ne 0 ]; then
		status=1
		cp "$scratch/$n.log" "$art/last-run.log"
		echo "fuzz.sh: $n: $crashes finding(s) in $art; reproduce with" \
			"$build/tests/fuzz/fuzz_$n FILE; log: $art/last-run.log" >&2
		tail -n 30 "$scratch/$n.log" >&2
	fi
	rows+=("$n ${execs:-0} $crashes")
done
[ $minimise -eq 1 ] && exit 0

if [ $json -eq 1 ]; then
	printf '{"fuzzers": ['
	sep=""
	for r in "${rows[@]}"; do
		set -- $r
		printf '%s{"name": "%s", "execs": %s, "crashes": %s, "seconds": %s}' \
			"$sep" "$1" "$2" "$3" "$seconds"
		sep=", "
	done
	printf ']}\n'
else
	for r in "${rows[@]}"; do
		set -- $r
		printf '%-8s %12s executions in %ss, %s crash(es)\n' "$1" "$2" "$seconds" "$3"
	done
fi
exit $status
