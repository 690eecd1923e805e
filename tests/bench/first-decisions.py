#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The first kill decision and the first throttle-or-kill rung of `memtidectl simulate` per
recording, for one memtidectl or side by side for two (to check that a forecaster change
makes no decision later).

    first-decisions.py MEMTIDECTL [--against OTHER_MEMTIDECTL] TRACE...

Times are seconds since the recording's start; "-" when there is none. With --against, a
recording whose first kill comes later with MEMTIDECTL than with OTHER is marked LATER and the
exit status is 1.
"""

import json
import subprocess
import sys


def first_decisions(ctl, trace):
    rows = json.loads(subprocess.run([ctl, "simulate", "--json", trace], capture_output=True, text=True,
                                     check=True).stdout)
    kill = rung = None
    for r in rows:
        if "rung" not in r:
            continue
        if rung is None and r["rung"] in ("throttle", "kill"):
            rung = r["t_s"]
        if kill is None and r.get("act") and r.get("action") == "kill":
            kill = r["t_s"]
    return kill, rung


def fmt(v):
    return "-" if v is None else f"{v:.2f}"


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ctl, rest, other = argv[1], argv[2:], None
    if rest[0] == "--against":
        other, rest = rest[1], rest[2:]
    later = False
    if other:
        print("| recording | first kill (s) | before | first throttle or kill (s) | before |")
        print("|---|---|---|---|---|")
    else:
        print("| recording | first kill (s) | first throttle or kill (s) |")
        print("|---|---|---|")
    for t in rest:
        name = t.rsplit("/", 1)[-1].removesuffix(".gz").removesuffix(".trace")
        k, r = first_decisions(ctl, t)
        if not other:
            print(f"| {name} | {fmt(k)} | {fmt(r)} |")
            continue
        k0, r0 = first_decisions(other, t)
        mark = ""
        if k0 is not None and (k is None or k > k0):
            mark, later = " LATER", True
        print(f"| {name} | {fmt(k)}{mark} | {fmt(k0)} | {fmt(r)} | {fmt(r0)} |")
    return 1 if later else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
