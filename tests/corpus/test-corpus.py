#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The trace corpus is what its README says it is.

Usage: test-corpus.py MEMTIDECTL [CORPUS_DIR]   (CORPUS_DIR: default $MEMTIDE_CORPUS)

For every <family>/<name>.trace.gz under CORPUS_DIR:
  - recordings.txt lists <name> in <family>, and the trace's scenario= meta is that family;
  - check-trace.py's checks pass for what the family expects (an OOM kill, none, hugepage
    events; the peak and the rate asked for);
  - `memtidectl simulate` replays it without an error.
A file of the tree that is not such a trace fails too. Exit 0 when everything holds, 1 otherwise,
77 when there is no corpus directory.
"""

import contextlib
import importlib.util
import io
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_check_trace():
    spec = importlib.util.spec_from_file_location("check_trace", os.path.join(HERE, "check-trace.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def listed(corpus):
    """{(family, name)} of recordings.txt."""
    out = set()
    with open(os.path.join(corpus, "recordings.txt")) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and not fields[0].startswith("#"):
                out.add((fields[0], fields[1]))
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    memtidectl = argv[1]
    corpus = argv[2] if len(argv) > 2 else os.environ.get("MEMTIDE_CORPUS", "")
    if not corpus or not os.path.isdir(corpus):
        print("SKIP: no corpus directory (MEMTIDE_CORPUS not set)")
        return 77
    ct = load_check_trace()
    names = listed(corpus)
    failures, n, families = [], 0, set()
    for family in sorted(os.listdir(corpus)):
        d = os.path.join(corpus, family)
        if not os.path.isdir(d) or family.startswith("."):
            continue
        for fn in sorted(os.listdir(d)):
            path = os.path.join(d, fn)
            if not fn.endswith(".trace.gz"):
                failures.append(f"{family}/{fn}: not a .trace.gz")
                continue
            n += 1
            families.add(family)
            name = fn[: -len(".trace.gz")]
            if (family, name) not in names:
                failures.append(f"{family}/{fn}: not listed in recordings.txt under {family}")
            try:
                meta = ct.read_trace(path)[0]
            except (OSError, ValueError) as e:
                failures.append(f"{family}/{fn}: unreadable: {e}")
                continue
            if meta.get("scenario") != family:
                failures.append(f"{family}/{fn}: scenario={meta.get('scenario')!r}, in directory {family}")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                ok = ct.check(path, "family")
            if not ok:
                failures.append(f"{family}/{fn}: {out.getvalue().strip()}")
            r = subprocess.run([memtidectl, "simulate", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, timeout=120)
            if r.returncode != 0:
                failures.append(f"{family}/{fn}: memtidectl simulate exit {r.returncode}: {r.stderr.strip()[:300]}")
    print(f"{n} recordings in {len(families)} families: {', '.join(sorted(families))}")
    if n == 0:
        failures.append("no recording at all")
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
