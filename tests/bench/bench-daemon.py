#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: memtided's memory and CPU cost at scale. Prints figures, asserts nothing about
time (a machine shared with other jobs is slower, not wrong).

memtided --root FIXTURE with 200 fixture cgroups (system.slice/svc-N.service, each with the
full set of memory files and a slowly changing memory.current), sampling at 10 Hz
(--interval 0.1) in dry-run, mlockall() on as in production, for MEMTIDE_BENCH_SECONDS
(default 60; MEMTIDE_BENCH_CGROUPS changes the 200). Then:
  RSS       VmHWM from /proc/PID/status (target <= 4 MiB)
  CPU       utime + stime from /proc/PID/stat over the run, scaled to an hour, as % of one
            core (target <= 0.1 %)
  where     the RSS by mapping from /proc/PID/smaps (anonymous allocations of 128 KiB and
            more are their own mappings, so the big preallocated tables show by size), and
            user vs. system CPU
  syscalls  with MEMTIDE_BENCH_STRACE=1 and strace installed: `strace -c` attached for the
            last 10 s, printed per sample (strace slows the daemon: CPU figures are taken
            before it attaches)
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixture-daemon"))
from memtide_fixture import MIB, Daemon, FixtureRoot, read  # noqa: E402

N_CGROUPS = int(os.environ.get("MEMTIDE_BENCH_CGROUPS", "200"))
HZ = 10


def status_kb(pid, key):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_split(pid):
    stat = read(f"/proc/{pid}/stat")
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks   # utime, stime (fields 14, 15)


def cpu_seconds(pid):
    return sum(cpu_split(pid))


def smaps(pid):
    """[(name, size_kb, rss_kb)] for every mapping."""
    maps, cur = [], None
    for line in read(f"/proc/{pid}/smaps").splitlines():
        f = line.split()
        if not f:
            continue
        if "-" in f[0] and not f[0].endswith(":"):
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            cur = [f[5] if len(f) > 5 else "[anon]", (hi - lo) // 1024, 0]
            maps.append(cur)
        elif f[0] == "Rss:" and cur is not None:
            cur[2] = int(f[1])
    return maps


def print_rss_breakdown(pid):
    groups = {}
    for name, size, rss in smaps(pid):
        if name == "[anon]" and size >= 128:
            key = f"anon mapping of {size} KiB"
        elif name.startswith("/"):
            key = os.path.basename(name)
        else:
            key = name
        g = groups.setdefault(key, [0, 0])
        g[0] += rss
        g[1] += 1
    print("  RSS by mapping (KiB, largest first; mappings of one file or size summed):")
    for key, (rss, n) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        if rss > 0:
            print(f"    {rss:6d}  {key}{f' (x{n})' if n > 1 else ''}")


def strace_counts(pid, seconds):
    p = subprocess.Popen(["strace", "-c", "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    p.send_signal(2)
    err = p.communicate(timeout=30)[1]
    counts = {}
    for line in err.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            counts[f[-1]] = int(f[3])
    return counts


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
        user, system = cpu_split(pid)
        print_rss_breakdown(pid)
        calls = None
        if os.environ.get("MEMTIDE_BENCH_STRACE") == "1" and shutil.which("strace"):
            calls = strace_counts(pid, 10.0)
        hwm, rss, lck = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS"), status_kb(pid, "VmLck")
        alive = d.alive()
        rc = d.stop()

        share = (c1 - c0) / (t1 - t0) * 100.0
        print(f"memtided, {N_CGROUPS} fixture cgroups, {HZ} Hz sampling, {t1 - t0:.0f} s, "
              f"mlockall {'on (MCL_ONFAULT)' if mlock else 'off (not root)'}:")
        print(f"  RSS (VmHWM): {hwm / 1024:.2f} MiB (target <= 4 MiB); VmRSS {rss / 1024:.2f} MiB, VmLck {lck / 1024:.2f} MiB")
        print(f"  CPU: {c1 - c0:.2f} s over {t1 - t0:.0f} s = {share * 3600 / 100:.1f} s per hour = "
              f"{share:.3f} % of one core (target <= 0.1 %)")
        print(f"  per sample: {(c1 - c0) / ((t1 - t0) * HZ) * 1e6:.0f} us CPU; over the whole life "
              f"user {user:.2f} s, system {system:.2f} s")
        if calls is not None:
            total = sum(calls.values())
            top = ", ".join(f"{k} {v / (10.0 * HZ):.1f}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8])
            print(f"  syscalls per sample (strace -c, 10 s): {total / (10.0 * HZ):.1f} ({top})")
        if not alive or rc != 0:
            print(f"  memtided ended badly (alive={alive}, rc={rc}):\n{d.stderr()[-2000:]}")
            sys.exit(1)
    finally:
        root.cleanup()


if __name__ == "__main__":
    main()
