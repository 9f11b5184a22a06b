# shellcheck shell=bash
# What the bench/*.sh commands share: their own --build DIR and --help,
# every other argument passed through, root, and a build of the targets
# they run. Source it, then:
#   bench_init "$@"            sets $build and the array $args
#   bench_build TARGET...      configures $build if needed, builds TARGETs
# The script's help is its header comment, from line 2 to the first blank
# comment-free line.

bench_init() {
	local me
	me=$(basename "$0")
	build=${SLUICE_BUILD_DIR:-build}
	args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--build)
			[ $# -ge 2 ] || { echo "$me: --build needs a directory" >&2; exit 2; }
			build=$2
			shift 2
			;;
		-h | --help)
			sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
			exit 0
			;;
		*)
			args+=("$1")
			shift
			;;
		esac
	done
	if [ "$(id -u)" -ne 0 ]; then
		echo "$me: must run as root (it runs DPDK or loads BPF programs)" >&2
		exit 1
	fi
}

bench_build() {
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" >/dev/null
	fi
	ninja -C "$build" "$@" >/dev/null
}
