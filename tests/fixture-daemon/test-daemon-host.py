#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host smoke test (tier 4): memtided in dry-run on this machine's real /proc for ~5 s.

Asserts: exit 0 after --count samples; every sample is one JSON object whose figures are sane
(MemAvailable within MemTotal, forecast states from the known set, finite ETAs, a rung and a
mode of dry-run); the PSI mode in use (kernel trigger or polling fallback) is reported; the
recorded trace replays the samples. Skips (77) without root or without /proc/pressure.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memtide_fixture import expect, memtided_path, skip  # noqa: E402

STATES = {"unknown", "stable", "approaching", "crossed"}


def main():
    if os.geteuid() != 0:
        skip("needs root: memtided reads /proc/pagetypeinfo and /proc/slabinfo, and PSI triggers need it")
    if not os.path.exists("/proc/pressure/memory"):
        skip("no /proc/pressure/memory: the kernel has no PSI (CONFIG_PSI=n or psi=0)")
    exe = memtided_path()
    with tempfile.TemporaryDirectory(prefix="memtide-host-") as tmp:
        conf = os.path.join(tmp, "memtided.conf")
        with open(conf, "w") as f:
            f.write("[Global]\nMode=enforce\n")   # --mode=dry-run below must win
        trace = os.path.join(tmp, "host.trace.gz")
        n = 20
        r = subprocess.run([exe, "--mode=dry-run", "--config", conf, "--run-dir", os.path.join(tmp, "run"),
                            "--live", "--json", "--count", str(n), "--interval", "0.25", "--record", trace],
                           capture_output=True, text=True, timeout=60)
        expect(r.returncode == 0, f"memtided --mode=dry-run --count {n} exits 0 (got {r.returncode}): {r.stderr[-2000:]}")
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        expect(len(lines) == n, f"one JSON object per sample ({len(lines)} of {n})")
        for i, line in enumerate(lines):
            o = json.loads(line)
            total = o.get("mem_total_bytes") or 0
            avail = o["mem_available_bytes"]
            if i == 0:
                expect(total > 0 and 0 < avail <= total, f"MemAvailable {avail >> 20} MiB within MemTotal {total >> 20} MiB")
            fc = o["forecast"]
            for k in ("available_exhausted", "psi_full", "soonest"):
                fig = fc[k]
                assert fig["state"] in STATES, f"sample {i}: {k} state {fig['state']}"
                assert math.isfinite(fig["eta_s"]) and fig["eta_s"] >= -1, f"sample {i}: {k} eta {fig['eta_s']}"
                assert 0 <= fig["confidence_permyriad"] <= 10000
            assert o["decision"]["mode"] == "dry-run", o["decision"]
            assert o["decision"]["rung"] in ("observe", "tune", "reclaim", "throttle", "kill")
        print(f"ok: {n} samples with sane forecasts (states, finite ETAs, confidences in range), mode dry-run")
        last = json.loads(lines[-1])["forecast"]["available_exhausted"]
        print(f"info: MemAvailable forecast after {n} samples: {last['state']}, eta {last['eta_s']:.1f} s, "
              f"confidence {last['confidence_permyriad'] / 100:.0f} %")
        expect("PSI: kernel triggers" in r.stderr or "PSI: triggers unavailable" in r.stderr,
               "the PSI mode in use is reported")
        for l in r.stderr.splitlines():
            if "PSI:" in l:
                print(f"info: {l}")
        expect(os.path.getsize(trace) > 0, "a trace was recorded from the real /proc")
        import gzip
        with gzip.open(trace, "rt", errors="replace") as f:
            text = f.read()
        expect(text.startswith("memtide-trace 1\n") and text.count("\n@ ") == n and "= /proc/vmstat " in text,
               f"the trace holds the {n} samples")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    print("PASS")
