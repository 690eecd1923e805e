#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
`memtidectl inspect --root FIXTURE --json` on every captured tree in tests/fixtures, checked
against the kernel's own numbers read here with independent parsing: per-zone
managed/min/low/high from proc/zoneinfo, extfrag_index / unusable_index from debugfs (where
the capture has them), MemAvailable from proc/meminfo (exactly where the capture is marked
CONSISTENT). Also: the output is valid JSON with the documented keys, and a bad --root gives
a clean error with exit code 3.

usage: test-inspect-json.py MEMTIDECTL FIXTURES_DIR
"""

import json
import os
import subprocess
import sys

failures = 0
checked = 0


def fail(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")


def parse_zoneinfo(path):
    zones = []
    cur = None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if line.startswith("Node "):
                cur = {"node": int(w[1].rstrip(",")), "zone": w[3]}
                zones.append(cur)
            elif cur is not None and w[0] in ("min", "low", "high", "managed") and len(w) == 2:
                cur[w[0]] = int(w[1])
    return zones


def parse_extfrag(path):
    out = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) < 5 or w[0] != "Node":
                continue
            key = (int(w[1].rstrip(",")), w[3])
            out[key] = [round(float(x) * 1000) for x in w[4:]]
    return out


def meminfo_kb(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def check_fixture(ctl, root):
    global checked
    name = os.path.basename(root)
    p = subprocess.run([ctl, "inspect", "--root", root, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{name}: exit {p.returncode}: {p.stderr.strip()}")
        return
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        fail(f"{name}: invalid JSON: {e}")
        return
    for key in ("mem_available_bytes", "zones"):
        if key not in doc:
            fail(f"{name}: key {key} missing")
            return

    zones = {(z["node"], z["zone"]): z for z in doc["zones"]}
    for kz in parse_zoneinfo(os.path.join(root, "proc/zoneinfo")):
        z = zones.get((kz["node"], kz["zone"]))
        if z is None:
            fail(f"{name}: zone {kz['node']}/{kz['zone']} missing from inspect")
            continue
        for k in ("managed", "min", "low", "high"):
            if z[f"{k}_pages"] != kz[k]:
                fail(f"{name}: {kz['zone']} {k}: inspect {z[k + '_pages']} kernel {kz[k]}")
        checked += 1

    dbg = os.path.join(root, "sys/kernel/debug/extfrag")
    for fname, key in (("extfrag_index", "extfrag_index"), ("unusable_index", "unusable_index")):
        path = os.path.join(dbg, fname)
        if not os.path.exists(path):
            print(f"{name}: no debugfs {fname} in this capture, not compared")
            continue
        for (node, zone), vals in parse_extfrag(path).items():
            z = zones.get((node, zone))
            if z is None:
                fail(f"{name}: {fname} zone {node}/{zone} missing from inspect")
                continue
            if len(z[key]) != 11 and len(z[key]) != len(vals):
                fail(f"{name}: {zone} {key} has {len(z[key])} orders")
            if z[key] != vals:
                fail(f"{name}: {zone} {key}: inspect {z[key]} kernel {vals}")
            checked += 1

    if os.path.exists(os.path.join(root, "CONSISTENT")):
        kernel = meminfo_kb(os.path.join(root, "proc/meminfo"), "MemAvailable")
        if doc["mem_available_bytes"] != kernel * 1024:
            fail(f"{name}: MemAvailable: inspect {doc['mem_available_bytes']} kernel {kernel * 1024}")
        checked += 1
    else:
        print(f"{name}: not marked CONSISTENT, MemAvailable not compared exactly")


def main():
    ctl, fixtures = sys.argv[1], sys.argv[2]
    dirs = sorted(d for d in os.listdir(fixtures) if os.path.isdir(os.path.join(fixtures, d)))
    for d in dirs:
        check_fixture(ctl, os.path.join(fixtures, d))

    p = subprocess.run([ctl, "inspect", "--root", "/nonexistent/memtide", "--json"],
                       capture_output=True, text=True)
    if p.returncode != 3 or "cannot open" not in p.stderr:
        fail(f"bad --root: exit {p.returncode}, stderr {p.stderr.strip()!r}")

    print(f"{checked} figures compared over {len(dirs)} fixtures, {failures} failures")
    if checked == 0:
        print("FAIL: nothing compared")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
