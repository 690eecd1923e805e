#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The rung table: every action kind memtided took across the guest scenarios of this build,
# from the `memtidectl history --json` each scenario saved (save_history in scenarios/lib.sh:
# <build>/meson-logs/vm/<scenario>/<scenario>/history-*.json). Prints one row per kind with
# the scenarios it happened in and how often (done or partial, the ladder's own actions; not
# RunAction calls over the bus, not restores). Fails when one of sysctl, reclaim, compact,
# drop-caches, throttle, kill never happened; skips (77) when no scenario saved a history (the
# vm suite did not run here).
#
# Usage: rung-table.sh [BUILD_DIR]   (default $MEMTIDE_BUILD_ROOT)

set -uo pipefail
build=${1:-${MEMTIDE_BUILD_ROOT:-}}
[ -n "$build" ] || { echo "usage: rung-table.sh BUILD_DIR" >&2; exit 2; }
shopt -s nullglob
files=("$build"/meson-logs/vm/*/*/history-*.json)
if [ ${#files[@]} = 0 ]; then
        echo "SKIP: no scenario saved a memtidectl history under $build/meson-logs/vm (the vm suite did not run)"
        exit 77
fi
python3 - "${files[@]}" <<'PY'
import json, os, sys
kinds = ["sysctl", "reclaim", "compact", "drop-caches", "throttle", "kill"]
seen = {k: {} for k in kinds}
for f in sys.argv[1:]:
    scenario = os.path.basename(os.path.dirname(f))
    try:
        entries = json.load(open(f))
    except (OSError, ValueError) as e:
        print("%s: unreadable (%s)" % (f, e))
        continue
    for e in entries if isinstance(entries, list) else []:
        k = e.get("kind")
        if k in seen and e.get("origin") != "bus" and e.get("status") in ("done", "partial"):
            seen[k][scenario] = seen[k].get(scenario, 0) + 1
print("%-12s %6s  %s" % ("KIND", "COUNT", "SCENARIOS"))
missing = []
for k in kinds:
    n = sum(seen[k].values())
    print("%-12s %6d  %s" % (k, n, ", ".join("%s (%d)" % (s, c) for s, c in sorted(seen[k].items())) or "-"))
    if n == 0:
        missing.append(k)
print("histories read: %d" % len(sys.argv[1:]))
if missing:
    print("FAIL: never happened in any scenario: " + ", ".join(missing))
    sys.exit(1)
print("PASS: every action kind happened at least once")
PY
