#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# systemd-analyze verify on the built units (tier 3, suite 'bus').
#   test-units.sh MEMTIDED.SERVICE ORG.MEMTIDE1.SERVICE ORG.MEMTIDE1.CONF MEMTIDED MANPAGE...
# The service's ExecStart= points at the installed path; here it is pointed at the built
# binary (verify checks that the command exists), and MANPATH at the built man pages (verify
# runs man for every Documentation= entry). Everything else is verified as installed.
# Exits 77 when systemd-analyze is missing.
set -eu

unit=$(realpath "$1") activation=$(realpath "$2") policy=$(realpath "$3") daemon=$(realpath "$4")
shift 4

command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: systemd-analyze is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
for page in "$@"; do
        sec=${page##*.}
        cp "$(realpath "$page")" "$tmp/man/man$sec/"
done

exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
sed "s|^ExecStart=$exec_start|ExecStart=$daemon|" "$unit" > "$tmp/units/memtided.service"
grep -q "^ExecStart=$daemon\$" "$tmp/units/memtided.service"

# the activation file must name the unit and the bus name the unit declares
grep -q '^SystemdService=memtided.service$' "$activation"
name=$(sed -n 's/^Name=//p' "$activation")
grep -q "^BusName=$name\$" "$unit"
grep -q "own=\"$name\"" "$policy"

# the policy file is well-formed XML when xmllint is available
if command -v xmllint >/dev/null 2>&1; then
        xmllint --noout "$policy"
fi

cd "$tmp/units"
if ! MANPATH="$tmp/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify ./memtided.service > "$tmp/out" 2>&1; then
        cat "$tmp/out"
        echo "FAIL: systemd-analyze verify memtided.service"
        exit 1
fi
cat "$tmp/out"
echo "ok: systemd-analyze verify memtided.service"

# security exposure, informative only (no threshold: the daemon must write /proc/sys and cgroups)
systemd-analyze security --offline=yes ./memtided.service 2>/dev/null | tail -1 || true
