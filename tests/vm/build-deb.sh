#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the Debian packages (debian/) of a memtide source tree once per source state.
#
# Usage: build-deb.sh [--source DIR] [--check] OUTDIR
#   --source DIR   the source tree (default: the tree this script is in)
#   --check        run the package's build-time tests (the unit suite); default nocheck,
#                  since the callers (tests/vm, CI) run every suite themselves
#   OUTDIR         where the .debs, .changes, .buildinfo and build.log land
#
# The source state is a hash over the names, modes and contents of the files git lists
# (tracked and untracked, without the ignored ones: build directories never count), or, without
# git, of every file outside build directories. When OUTDIR/source-state holds the same hash
# and the packages it names are there, they are reused and nothing is built. Otherwise the
# files are copied to OUTDIR/src (dpkg-buildpackage writes next to and into the tree it
# builds, never into the source tree here) and built with `dpkg-buildpackage -us -uc -b`.
#
# Prints the paths of the .deb files, one per line, on stdout; everything else goes to stderr.
# Exit: 0 built or reused; 1 the tools are missing or the build failed (the reason and the end
# of the build log on stderr); 2 usage.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
check=0
out=""
while [ $# -gt 0 ]; do
        case "$1" in
        --source) src=$(cd "$2" && pwd) || exit 2; shift 2 ;;
        --check) check=1; shift ;;
        -h|--help) sed -n '4,22p' "$0"; exit 0 ;;
        -*) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
        *) out=$1; shift ;;
        esac
done
[ -n "$out" ] || { echo "usage: build-deb.sh [--source DIR] [--check] OUTDIR" >&2; exit 2; }
[ -f "$src/debian/control" ] || { echo "build-deb.sh: $src has no debian/control" >&2; exit 1; }

missing=()
command -v dpkg-buildpackage >/dev/null 2>&1 || missing+=("dpkg-buildpackage (apt-get install dpkg-dev)")
command -v dh >/dev/null 2>&1 || missing+=("dh (apt-get install debhelper)")
if [ ${#missing[@]} -gt 0 ]; then
        echo "build-deb.sh: cannot build the Debian packages, missing: ${missing[*]} (or run .ci/install-deps)" >&2
        exit 1
fi

mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
# One build at a time per OUTDIR.
exec 9>"$out/.lock"
flock 9

# --- the source state --------------------------------------------------------------------------
list=$out/source-files
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$src" ls-files -z --cached --others --exclude-standard >"$list" || exit 1
else
        (cd "$src" && find . \( -name .git -o -name 'obj-*' -o -exec test -d {}/meson-private \; \) -prune \
                -o -type f -printf '%P\0') >"$list" || exit 1
fi
state=$(cd "$src" && python3 - "$list" "$check" <<'PY'
import hashlib, os, sys
names = sorted(set(n for n in open(sys.argv[1], "rb").read().split(b"\0") if n))
h = hashlib.sha256(b"check=" + sys.argv[2].encode() + b"\0")
for n in names:
    try:
        st = os.lstat(n)
    except FileNotFoundError:        # listed by git, deleted in the work tree
        continue
    h.update(n + b"\0" + oct(st.st_mode).encode() + b"\0")
    if os.path.islink(n):
        h.update(os.readlink(n))
    else:
        with open(n, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
print(h.hexdigest())
PY
) || { echo "build-deb.sh: cannot hash the source tree" >&2; exit 1; }

if [ -f "$out/source-state" ] && [ "$(head -n 1 "$out/source-state")" = "$state" ]; then
        ok=1
        debs=()
        while read -r f; do
                [ -f "$out/$f" ] || ok=0
                debs+=("$out/$f")
        done < <(tail -n +2 "$out/source-state")
        if [ "$ok" = 1 ] && [ ${#debs[@]} -gt 0 ]; then
                echo "build-deb.sh: source unchanged (state ${state:0:12}), reusing ${#debs[@]} packages in $out" >&2
                printf '%s\n' "${debs[@]}"
                exit 0
        fi
fi

# --- build -------------------------------------------------------------------------------------
rm -f "$out/source-state" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
rm -rf "$out/src"
mkdir -p "$out/src/memtide"
(cd "$src" && tar --null --no-recursion --ignore-failed-read -T "$list" -cf -) | tar -C "$out/src/memtide" -xf - || {
        echo "build-deb.sh: copying the source tree to $out/src failed" >&2
        exit 1
}
if ! (cd "$out/src/memtide" && dpkg-checkbuilddeps) >"$out/build.log" 2>&1; then
        cat "$out/build.log" >&2
        echo "build-deb.sh: build dependencies missing (apt-get build-dep, or run .ci/install-deps)" >&2
        exit 1
fi
opts="parallel=$(nproc)"
[ "$check" = 1 ] || opts="nocheck $opts"
echo "build-deb.sh: building the Debian packages of $src (state ${state:0:12}, DEB_BUILD_OPTIONS=\"$opts\")" >&2
t0=$(date +%s)
if ! (cd "$out/src/memtide" && DEB_BUILD_OPTIONS="$opts" dpkg-buildpackage -us -uc -b) >>"$out/build.log" 2>&1; then
        tail -n 40 "$out/build.log" >&2
        echo "build-deb.sh: dpkg-buildpackage failed, full log in $out/build.log" >&2
        exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/ || exit 1
rm -rf "$out/src"
debs=("$out"/*.deb)
{
        echo "$state"
        for d in "${debs[@]}"; do basename "$d"; done
} >"$out/source-state"
echo "build-deb.sh: built ${#debs[@]} packages in $(( $(date +%s) - t0 )) s into $out" >&2
printf '%s\n' "${debs[@]}"
