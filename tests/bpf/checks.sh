# shellcheck shell=bash
# Shared by the bpf suite's shell tests: count failures instead of stopping
# at the first, so one run shows everything that is wrong.
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

# finish NAME: the closing line, and the exit status.
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$1: $failures failures"
		exit 1
	fi
	echo "$1: all checks passed"
	exit 0
}
