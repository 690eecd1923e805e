#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print the tables of tests/corpus/README.md from the recordings themselves.

Usage: summarize.py MEMTIDECTL [CORPUS_DIR]

For every <family>/<name>.trace.gz: the parameters (the trace's params= meta), its duration, and
its episodes as `memtidectl simulate --eval` extracts them (ground truth from kernel events and
counters), plus the OOM kills and hugepage shortfalls the trace's events hold. Markdown on stdout:
one table per family, then the summary (family, recordings, hours, episodes).
"""

import gzip
import os
import re
import subprocess
import sys


def meta_and_events(path):
    meta, ooms, short, huge = {}, 0, 0, 0
    with gzip.open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        line = data[pos:end].decode(errors="replace")
        pos = end + 1
        if line.startswith("= "):
            pos += int(line.rsplit(" ", 1)[1]) + 1
        elif line.startswith("meta "):
            for kv in line[5:].split():
                k, _, v = kv.partition("=")
                meta[k] = v
        elif line.startswith("! "):
            parts = line.split()
            if parts[2] == "oom_kill":
                ooms += 1
            elif parts[2] == "hugepages":
                huge += 1
                kv = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
                if int(kv.get("obtained", 0)) < int(kv.get("requested", 0)):
                    short += 1
    return meta, ooms, huge, short


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ctl = argv[1]
    root = argv[2] if len(argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    files = sorted(os.path.join(root, d, f) for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))
                   for f in os.listdir(os.path.join(root, d)) if f.endswith(".trace.gz"))
    out = subprocess.run([ctl, "simulate", "--eval", "-H", "30"] + files, capture_output=True, text=True,
                         check=True).stdout
    episodes = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S+\.trace\.gz)\s+(\d+) s\s+(.*)$", line)
        if m:
            episodes[m.group(1)] = (int(m.group(2)), m.group(3).strip())
    fams = {}
    for p in files:
        fams.setdefault(os.path.basename(os.path.dirname(p)), []).append(p)
    summary = []
    for fam, paths in fams.items():
        print("\n#### %s\n" % fam)
        print("| file | parameters | duration | episodes (simulate --eval) | oom_kill events | hugepages events (short) |")
        print("|---|---|---|---|---|---|")
        secs = n_ep = 0
        for p in paths:
            name = os.path.basename(p)
            meta, ooms, huge, short = meta_and_events(p)
            params = meta.get("params", "").replace("workload:", "").replace(",", ", ")
            dur, ep = episodes.get(name, (0, "?"))
            eps = [] if ep == "benign" else ep.split()
            # "oom@22.6s(harm from 20.4s)" → "oom 22.6 s"
            shown = ", ".join(re.sub(r"^(\w+)@([\d.]+)s.*", r"\1 \2 s", e) for e in eps if "@" in e) or "none"
            secs += dur
            n_ep += sum(1 for e in eps if "@" in e)
            print("| %s | %s | %d s | %s | %d | %s |" % (name, params, dur, shown, ooms,
                                                      "%d (%d)" % (huge, short) if huge else "-"))
        summary.append((fam, len(paths), secs / 3600, n_ep))
    print("\n| family | recordings | hours | episodes |")
    print("|---|---|---|---|")
    for fam, n, h, e in summary:
        print("| %s | %d | %.2f | %d |" % (fam, n, h, e))
    print("| **all** | **%d** | **%.2f** | **%d** |" % (sum(s[1] for s in summary), sum(s[2] for s in summary),
                                                      sum(s[3] for s in summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
