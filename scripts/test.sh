#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as
# errors, runs every test suite, then the unit tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer, then each fuzzer briefly.
# Exits non-zero on any failure. Run as root on Debian 12 (BPF tests load programs).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

configure() { # configure DIR [meson options...]
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

status=0
configure build -Dwerror=true
ninja -C build
meson test -C build --print-errorlogs || status=1

# Sanitizers: the unit suite (pure user-space code, where they see most).
configure build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Ddataplane=disabled
ninja -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs || status=1

# Every fuzzer for a few seconds on its seeds (scripts/fuzz.sh runs them
# longer): each one is a test that fails on any crash, leak or timeout.
fuzz_seconds=${SLUICE_FUZZ_SECONDS:-8}
bash scripts/fuzz.sh --seconds "$fuzz_seconds" --json >build/fuzz.json || status=1
cat build/fuzz.json

# One closing line over all runs, in the form CI reads.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build/fuzz.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:3]:
    with open(path) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
try:
    with open(sys.argv[3]) as f:
        fuzzers = json.load(f)["fuzzers"]
except (OSError, ValueError, KeyError):
    fuzzers = None
if not fuzzers:
    failed += 1  # the fuzzing step itself did not run
else:
    for z in fuzzers:
        if z["crashes"] == 0 and z["execs"] > 0:
            passed += 1
        else:
            failed += 1
print(f"sluice tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
