#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: memtided's memory and CPU cost at scale. Prints figures, asserts nothing about
time (a machine shared with other jobs is slower, not wrong).

memtided --root FIXTURE with 200 fixture cgroups (system.slice/svc-N.service, each with the
full set of memory files and a slowly changing memory.current), sampling at 10 Hz
(--interval 0.1) in dry-run, mlockall() on as in production, for MEMTIDE_BENCH_SECONDS
(default 60). Then:
  RSS       VmHWM from /proc/PID/status (target <= 4 MiB)
  CPU       utime + stime from /proc/PID/stat over the run, scaled to an hour, as % of one
            core (target <= 0.1 %)
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixture-daemon"))
from memtide_fixture import MIB, Daemon, FixtureRoot, read  # noqa: E402

N_CGROUPS = 200
HZ = 10


def status_kb(pid, key):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    stat = read(f"/proc/{pid}/stat")
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks   # utime, stime (fields 14, 15)


def main():
    seconds = float(os.environ.get("MEMTIDE_BENCH_SECONDS", "60"))
    root = FixtureRoot()
    try:
        svcs = [root.add_service(f"system.slice/svc-{i}.service", (50 + i) * MIB, 1024 * MIB) for i in range(N_CGROUPS)]
        args = ["--mode=dry-run", "--interval", str(1.0 / HZ), "--max-cgroups", str(N_CGROUPS + 16)]
        mlock = os.geteuid() == 0          # mlockall() needs CAP_IPC_LOCK (or a large RLIMIT_MEMLOCK)
        d = Daemon(root, "[Global]\nMode=dry-run\n", args=args, mlock=mlock)
        d.wait_ready()
        pid = d.proc.pid

        time.sleep(2.0)                      # startup, first walk, the forecaster's rings filling
        c0, t0 = cpu_seconds(pid), time.monotonic()
        end = t0 + seconds
        k = 0
        while time.monotonic() < end:
            # a slow drift on a few cgroups so that files change between samples
            svcs[k % N_CGROUPS].set_current((50 + k % N_CGROUPS) * MIB + (k % 7) * MIB)
            k += 1
            time.sleep(0.05)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        hwm, rss, lck = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS"), status_kb(pid, "VmLck")
        alive = d.alive()
        rc = d.stop()

        share = (c1 - c0) / (t1 - t0) * 100.0
        print(f"memtided, {N_CGROUPS} fixture cgroups, {HZ} Hz sampling, {t1 - t0:.0f} s, "
              f"mlockall {'on (MCL_ONFAULT)' if mlock else 'off (not root)'}:")
        print(f"  RSS (VmHWM): {hwm / 1024:.2f} MiB (target <= 4 MiB); VmRSS {rss / 1024:.2f} MiB, VmLck {lck / 1024:.2f} MiB")
        print(f"  CPU: {c1 - c0:.2f} s over {t1 - t0:.0f} s = {share * 3600 / 100:.1f} s per hour = "
              f"{share:.3f} % of one core (target <= 0.1 %)")
        print(f"  per sample: {(c1 - c0) / ((t1 - t0) * HZ) * 1e6:.0f} us CPU")
        if not alive or rc != 0:
            print(f"  memtided ended badly (alive={alive}, rc={rc}):\n{d.stderr()[-2000:]}")
            sys.exit(1)
    finally:
        root.cleanup()


if __name__ == "__main__":
    main()
