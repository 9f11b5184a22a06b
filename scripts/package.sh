#!/usr/bin/env bash
# Builds sluice's Debian packages (debian/) from a clean copy of the tree:
# the files git knows, committed or not, without build directories or
# anything ignored, so that a developer's build/ never leaks into a package.
#
#   scripts/package.sh [--out DIR]     .deb files to DIR (default dist/)
#
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=<cores>": the package
# build runs no tests (scripts/test.sh does). Needs the Build-Depends of
# debian/control (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

out=dist
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "package.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
# dpkg-buildpackage writes its results next to the source directory.
src=$work/sluice
mkdir "$src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files as they are in the work tree; deleted ones are
	# skipped (ls-files still lists them until the deletion is committed).
	git -C "$root" ls-files -z --cached --others --exclude-standard |
		(cd "$root" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$root" --exclude='./build*' --exclude=./dist --exclude=./.git -cf - . |
		tar -C "$src" -xf -
fi

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-"nocheck parallel=$(nproc)"}
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "package.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
rm -f "$out"/sluice*.deb
mv "$work"/*.deb "$out"/
cp "$work"/*.changes "$out"/ 2>/dev/null || true
ls -1 "$out"/*.deb
